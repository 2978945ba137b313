"""Amounts in words, in Spanish, for receipts ("la suma de ... pesos").

Babel has no CLDR spell-out rules and num2words is not a dependency, so this is written out from
the Real Academia Española's rules (Ortografía 2010, §§ on numerals), for the long scale used in
Colombia:
- one word up to 29 (`dieciséis`, `veintidós`, `veintitrés`, `veintiséis`), `y` only between tens
  and units from 31 to 99 (`treinta y uno`), `cien` alone and `ciento` before more
  (`ciento uno`), `quinientos`, `setecientos`, `novecientos`;
- `uno` shortens to `un` before a noun or `mil`/`millón` (`un peso`, `veintiún mil`,
  `treinta y un millones`, `ciento un mil`), but `mil` is never preceded by `un` (`mil pesos`);
- `millón`/`millones` every 10^6, `billón`/`billones` every 10^12 (a thousand millions is
  `mil millones`, never a `billón`);
- `de` before the currency when the amount ends in millions (`un millón de pesos`,
  `dos mil millones de pesos`) and not otherwise (`un millón doscientos mil pesos`);
- cents follow with `con` (`cien pesos con cincuenta centavos`); whole amounts add nothing.
Masculine forms throughout: pesos, dólares and centavos are masculine nouns.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from shared.money import money

_UNITS: Final = (
    "cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez",
    "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho",
    "diecinueve", "veinte", "veintiuno", "veintidós", "veintitrés", "veinticuatro", "veinticinco",
    "veintiséis", "veintisiete", "veintiocho", "veintinueve",
)  # fmt: skip
_TENS: Final = ("", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta",
                "noventa")  # fmt: skip
_HUNDREDS: Final = ("", "ciento", "doscientos", "trescientos", "cuatrocientos", "quinientos",
                    "seiscientos", "setecientos", "ochocientos", "novecientos")  # fmt: skip
_MILLION: Final = 10**6
_BILLION: Final = 10**12  # long scale: un billón = un millón de millones


@dataclass(frozen=True)
class CurrencyWords:
    singular: str
    plural: str
    cent_singular: str
    cent_plural: str


CURRENCIES: Final = {
    "COP": CurrencyWords("peso", "pesos", "centavo", "centavos"),
    "USD": CurrencyWords("dólar", "dólares", "centavo", "centavos"),
    "EUR": CurrencyWords("euro", "euros", "céntimo", "céntimos"),
}


def _apocope(words: str) -> str:
    """`uno` -> `un` at the end (before a noun or a scale word): veintiuno -> veintiún."""
    if words.endswith("veintiuno"):
        return words[: -len("veintiuno")] + "veintiún"
    if words.endswith("uno"):
        return words[: -len("uno")] + "un"
    return words


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        parts.append("cien" if n == 100 else _HUNDREDS[hundreds])
    if rest >= 30:
        tens, units = divmod(rest, 10)
        parts.append(_TENS[tens] + (f" y {_UNITS[units]}" if units else ""))
    elif rest:
        parts.append(_UNITS[rest])
    return " ".join(parts)


def _below_million(n: int) -> str:
    thousands, rest = divmod(n, 1000)
    parts = []
    if thousands == 1:
        parts.append("mil")
    elif thousands:
        parts.append(_apocope(_below_thousand(thousands)) + " mil")
    if rest:
        parts.append(_below_thousand(rest))
    return " ".join(parts)


def number_in_words(n: int) -> str:
    """A non-negative integer as a Spanish cardinal, as said alone: 21 -> `veintiuno`,
    1_000_000 -> `un millón`, 2_500_000_000 -> `dos mil quinientos millones`."""
    if n < 0:
        raise ValueError("number_in_words takes a non-negative integer")
    if n == 0:
        return _UNITS[0]
    if n >= 10**18:
        raise ValueError("number too large (a trillón is beyond any amount here)")
    billions, rest = divmod(n, _BILLION)
    millions, units = divmod(rest, _MILLION)
    parts = []
    scales = ((billions, "un billón", "billones"), (millions, "un millón", "millones"))
    for count, one, many in scales:
        if count == 1:
            parts.append(one)
        elif count:
            parts.append(f"{_apocope(_below_million(count))} {many}")
    if units:
        parts.append(_below_million(units))
    return " ".join(parts)


def _counted(n: int, singular: str, plural: str) -> str:
    """`n` things: `un peso`, `veintiún pesos`, `un millón de pesos`, `cero pesos`."""
    if n == 1:
        return f"un {singular}"
    words = _apocope(number_in_words(n))
    joiner = " de " if n % _MILLION == 0 and n > 0 else " "
    return f"{words}{joiner}{plural}"


def amount_in_words(amount: Decimal | int | str, currency: str = "COP") -> str:
    """The amount as a receipt writes it, lower case:
    1234567 -> `un millón doscientos treinta y cuatro mil quinientos sesenta y siete pesos`,
    Decimal("100.50") -> `cien pesos con cincuenta centavos`. Negative amounts get `menos`."""
    try:
        names = CURRENCIES[currency.upper()]
    except KeyError:
        raise ValueError(f"no words for currency {currency!r}") from None
    value = money(amount)
    cents = abs(int(value * 100))
    whole, cent = divmod(cents, 100)
    text = _counted(whole, names.singular, names.plural)
    if cent:
        text += " con " + _counted(cent, names.cent_singular, names.cent_plural)
    return f"menos {text}" if value < 0 else text
