from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.formatting import (
    currency_symbol,
    format_date,
    format_datetime,
    format_money,
    format_number,
)
from shared.money import MAX_AMOUNT


@pytest.mark.parametrize(
    ("amount", "es_co", "en"),
    [
        (Decimal("1234567"), "$ 1.234.567", "$1,234,567"),
        (Decimal("1234567.00"), "$ 1.234.567", "$1,234,567"),
        (Decimal("1234567.5"), "$ 1.234.567,50", "$1,234,567.50"),
        (Decimal("1234567.05"), "$ 1.234.567,05", "$1,234,567.05"),
        (Decimal("-1234567"), "-$ 1.234.567", "-$1,234,567"),
        (Decimal("-0.5"), "-$ 0,50", "-$0.50"),
        (Decimal("0"), "$ 0", "$0"),
        (Decimal("999"), "$ 999", "$999"),
        (Decimal("1000"), "$ 1.000", "$1,000"),
        (250000, "$ 250.000", "$250,000"),
        ("250000.00", "$ 250.000", "$250,000"),
    ],
)
def test_pesos_in_spanish_and_english(amount: Decimal | int | str, es_co: str, en: str) -> None:
    assert format_money(amount) == es_co
    assert format_money(amount, "COP", "es_CO") == es_co
    assert format_money(amount, "COP", "es-CO") == es_co
    assert format_money(amount, "COP", "en") == en


def test_no_break_spaces_become_plain_spaces() -> None:
    # Babel writes U+00A0 in es and U+202F in fr; we hand out ordinary spaces.
    assert format_money(1234567, "EUR", "es") == "1.234.567 €"
    assert format_money(Decimal("1234567.5"), "EUR", "fr") == "1 234 567,50 €"
    assert "\u00a0" not in format_money(1, "COP", "es_CO")


def test_other_currencies() -> None:
    assert format_money(1234567, "USD", "es_CO") == "US$ 1.234.567"
    assert format_money(1234567, "USD", "en") == "$1,234,567"
    assert format_money(1234567, "EUR", "es_CO") == "€ 1.234.567"
    # A US English user sees COP spelled out: `$` there means dollars.
    assert format_money(1234567, "COP", "en_US") == "COP1,234,567"


def test_currency_symbols() -> None:
    assert currency_symbol("COP", "es_CO") == "$"
    assert currency_symbol("COP", "en") == "$"
    assert currency_symbol("MXN", "es_CO") == "MXN"
    assert currency_symbol("XAF", "es_CO") == "XAF"  # no symbol anywhere we look


def test_float_and_garbage_are_refused() -> None:
    with pytest.raises(TypeError):
        format_money(1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        format_money("uno")


@given(st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=2))
def test_es_co_reads_back(amount: Decimal) -> None:
    text = format_money(amount)
    sign = "-" if amount < 0 else ""
    assert text.startswith(f"{sign}$ ")
    digits = text.removeprefix(f"{sign}$ ").replace(".", "").replace(",", ".")
    assert Decimal(sign + digits) == amount
    assert ("," in text) == (amount != amount.to_integral_value())


def test_numbers() -> None:
    assert format_number(1234567) == "1.234.567"
    assert format_number(1234567, "en") == "1,234,567"
    assert format_number(Decimal("1234.5"), "es_CO") == "1.234,5"


def test_dates() -> None:
    assert format_date(date(2026, 3, 5)) == "05/03/2026"
    assert format_date(date(2026, 12, 31), "es") == "31/12/2026"
    assert format_date(date(2026, 3, 5), "en") == "Mar 5, 2026"


def test_datetimes_are_shown_on_the_business_clock() -> None:
    moment = datetime(2026, 3, 5, 19, 7, tzinfo=UTC)  # 14:07 in Bogotá
    assert format_datetime(moment) == "05/03/2026 14:07"
    assert format_datetime(moment, locale="en") == "Mar 5, 2026 2:07 PM"
    assert format_datetime(moment, "UTC") == "05/03/2026 19:07"
    # Just after midnight UTC is still the previous evening in Bogotá.
    assert format_datetime(datetime(2026, 3, 6, 1, 0, tzinfo=UTC)) == "05/03/2026 20:00"


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(InvalidInput):
        format_datetime(datetime(2026, 3, 5, 14, 7))  # noqa: DTZ001
