"""What a collector types: es-CO amounts and dates, read strictly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mobile.state.inputs import InputError, parse_amount_input, parse_date_input


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("150000", "150000.00"),
        ("150.000", "150000.00"),
        ("$ 150.000", "150000.00"),
        ("1.234.567,5", "1234567.50"),
        ("1.234.567,05", "1234567.05"),
        (" 20.000,00 ", "20000.00"),
        ("7", "7.00"),
    ],
)
def test_spanish_amounts(text: str, expected: str) -> None:
    assert parse_amount_input(text, "es") == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "error.required"),
        ("   ", "error.required"),
        ("1.5", "error.amount"),  # a thousands group has three digits: never "one and a half"
        ("15.00", "error.amount"),
        ("150,000", "error.amount"),  # three decimals in Spanish
        ("1,234.50", "error.amount"),  # English separators in a Spanish UI
        ("12.34.567", "error.amount"),
        ("10,505", "error.amount"),
        ("-5.000", "error.amount"),
        ("abc", "error.amount"),
        ("0", "error.amount_positive"),
        ("0,00", "error.amount_positive"),
        ("9" * 19, "error.amount_too_large"),
    ],
)
def test_spanish_amounts_refused(text: str, key: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_amount_input(text, "es")
    assert exc.value.key == key


def test_english_amounts_swap_the_separators() -> None:
    assert parse_amount_input("1,234,567.50", "en") == Decimal("1234567.50")
    assert parse_amount_input("$150,000", "en") == Decimal("150000.00")
    with pytest.raises(InputError):
        parse_amount_input("150.000", "en")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05/12/2026", date(2026, 12, 5)),
        ("5/12/2026", date(2026, 12, 5)),
        ("05-12-2026", date(2026, 12, 5)),
        ("2026-12-05", date(2026, 12, 5)),
    ],
)
def test_dates(text: str, expected: date) -> None:
    assert parse_date_input(text) == expected


@pytest.mark.parametrize("text", ["31/02/2026", "2026/12/05", "mañana", "12/2026", "2026-13-01"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_date_input(text)
    assert exc.value.key == "error.date"
