from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.money import MAX_AMOUNT
from shared.words import amount_in_words, number_in_words

# Written out by hand from the RAE's rules (see shared/words.py), not produced by the code.
PESOS = [
    (0, "cero pesos"),
    (1, "un peso"),
    (2, "dos pesos"),
    (10, "diez pesos"),
    (11, "once pesos"),
    (15, "quince pesos"),
    (16, "dieciséis pesos"),
    (19, "diecinueve pesos"),
    (20, "veinte pesos"),
    (21, "veintiún pesos"),
    (22, "veintidós pesos"),
    (23, "veintitrés pesos"),
    (26, "veintiséis pesos"),
    (29, "veintinueve pesos"),
    (30, "treinta pesos"),
    (31, "treinta y un pesos"),
    (45, "cuarenta y cinco pesos"),
    (99, "noventa y nueve pesos"),
    (100, "cien pesos"),
    (101, "ciento un pesos"),
    (110, "ciento diez pesos"),
    (121, "ciento veintiún pesos"),
    (200, "doscientos pesos"),
    (555, "quinientos cincuenta y cinco pesos"),
    (700, "setecientos pesos"),
    (999, "novecientos noventa y nueve pesos"),
    (1_000, "mil pesos"),
    (1_001, "mil un pesos"),
    (1_100, "mil cien pesos"),
    (2_000, "dos mil pesos"),
    (21_000, "veintiún mil pesos"),
    (31_000, "treinta y un mil pesos"),
    (100_000, "cien mil pesos"),
    (101_000, "ciento un mil pesos"),
    (250_000, "doscientos cincuenta mil pesos"),
    (999_999, "novecientos noventa y nueve mil novecientos noventa y nueve pesos"),
    (1_000_000, "un millón de pesos"),
    (1_000_001, "un millón un pesos"),
    (1_001_000, "un millón mil pesos"),
    (1_200_000, "un millón doscientos mil pesos"),
    (
        1_234_567,
        "un millón doscientos treinta y cuatro mil quinientos sesenta y siete pesos",
    ),
    (2_000_000, "dos millones de pesos"),
    (21_000_000, "veintiún millones de pesos"),
    (100_000_000, "cien millones de pesos"),
    (1_000_000_000, "mil millones de pesos"),
    (1_001_000_000, "mil un millones de pesos"),
    (2_500_000_000, "dos mil quinientos millones de pesos"),
    (21_000_000_000, "veintiún mil millones de pesos"),
    (1_000_000_000_000, "un billón de pesos"),
    (1_000_000_500_000, "un billón quinientos mil pesos"),
    (2_000_001_000_000, "dos billones un millón de pesos"),
    (1_000_000_000_000_000, "mil billones de pesos"),
]


@pytest.mark.parametrize(("amount", "words"), PESOS)
def test_whole_pesos(amount: int, words: str) -> None:
    assert amount_in_words(amount) == words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("100.50", "cien pesos con cincuenta centavos"),
        ("0.01", "cero pesos con un centavo"),
        ("1.21", "un peso con veintiún centavos"),
        ("1000000.99", "un millón de pesos con noventa y nueve centavos"),
        ("250000.00", "doscientos cincuenta mil pesos"),
        ("-5", "menos cinco pesos"),
    ],
)
def test_cents_and_sign(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


def test_other_currencies() -> None:
    assert amount_in_words(1, "USD") == "un dólar"
    assert amount_in_words(Decimal("2.50"), "usd") == "dos dólares con cincuenta centavos"
    assert amount_in_words(Decimal("0.5"), "EUR") == "cero euros con cincuenta céntimos"
    with pytest.raises(ValueError, match="XYZ"):
        amount_in_words(1, "XYZ")


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "cero"),
        (1, "uno"),
        (21, "veintiuno"),
        (31, "treinta y uno"),
        (1_000_021, "un millón veintiuno"),
    ],
)
def test_number_alone_keeps_uno(n: int, words: str) -> None:
    assert number_in_words(n) == words


def test_number_in_words_rejects_negative() -> None:
    with pytest.raises(ValueError):
        number_in_words(-1)


# An independent reading of Spanish numerals (accumulate, multiply at each scale word), used to
# check that every amount's words say that amount and nothing else.
_VALUES = {
    "cero": 0, "un": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13,
    "catorce": 14, "quince": 15, "dieciséis": 16, "diecisiete": 17, "dieciocho": 18,
    "diecinueve": 19, "veinte": 20, "veintiún": 21, "veintiuno": 21, "veintidós": 22,
    "veintitrés": 23, "veinticuatro": 24, "veinticinco": 25, "veintiséis": 26, "veintisiete": 27,
    "veintiocho": 28, "veintinueve": 29, "treinta": 30, "cuarenta": 40, "cincuenta": 50,
    "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90, "cien": 100, "ciento": 100,
    "doscientos": 200, "trescientos": 300, "cuatrocientos": 400, "quinientos": 500,
    "seiscientos": 600, "setecientos": 700, "ochocientos": 800, "novecientos": 900,
}  # fmt: skip


def _read(words: list[str]) -> int:
    total = group = small = 0
    for word in words:
        if word == "y":
            continue
        if word == "mil":
            group += (small or 1) * 1000
            small = 0
        elif word in ("millón", "millones"):
            total += (group + small) * 10**6
            group = small = 0
        elif word in ("billón", "billones"):
            total += (group + small) * 10**12
            group = small = 0
        else:
            small += _VALUES[word]
    return total + group + small


def _read_amount(text: str) -> Decimal:
    whole_text, _, cents_text = text.partition(" con ")
    whole_words = whole_text.split()
    assert whole_words[-1] in ("peso", "pesos")
    whole_words = whole_words[:-1]
    if whole_words[-1] == "de":
        whole_words = whole_words[:-1]
    cents = 0
    if cents_text:
        cent_words = cents_text.split()
        assert cent_words[-1] in ("centavo", "centavos")
        cents = _read(cent_words[:-1])
        assert 0 < cents < 100
    return Decimal(_read(whole_words)) + Decimal(cents) / 100


@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2))
def test_words_read_back_to_the_amount(amount: Decimal) -> None:
    assert _read_amount(amount_in_words(amount)) == amount


@given(st.integers(min_value=0, max_value=10**15))
def test_words_follow_the_grammar(n: int) -> None:
    text = amount_in_words(n)
    words = text.split()
    # A thousand is `mil`, never `un mil`; `un mil` only ends a larger count (`noventa y un mil`,
    # `doscientos un mil`).
    for i, pair in enumerate(pairwise(words)):
        if pair == ("un", "mil"):
            assert i > 0 and words[i - 1] not in ("mil", "millón", "millones", "billón", "billones")
    # Before a noun every `uno` is shortened: `un peso`, `veintiún pesos`, `treinta y un mil`.
    assert "uno" not in words and "veintiuno" not in words
    assert ("de" in words) == (n > 0 and n % 10**6 == 0)
    assert words[-1] == ("peso" if n == 1 else "pesos")
    assert "  " not in text and text == text.strip()
