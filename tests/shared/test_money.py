from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.money import CENT, MAX_AMOUNT, ZERO, from_cents, money, to_cents


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, "5.00"),
        ("250000", "250000.00"),
        ("250000.5", "250000.50"),
        # Banker's rounding: halves go to the even cent.
        ("1.005", "1.00"),
        ("1.015", "1.02"),
        ("2.675", "2.68"),
        ("-1.005", "-1.00"),
        ("1.0051", "1.01"),
        ("1E+3", "1000.00"),
        (Decimal("0.004"), "0.00"),
    ],
)
def test_quantizes_to_cents(value: Decimal | int | str, expected: str) -> None:
    assert str(money(value)) == expected


def test_negative_zero_is_plain_zero() -> None:
    assert str(money("-0.004")) == "0.00"
    assert not money(Decimal("-0")).is_signed()


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        money(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("abc", "invalid_amount"),
        ("1,5", "invalid_amount"),
        ("", "invalid_amount"),
        ("NaN", "invalid_amount"),
        ("Infinity", "invalid_amount"),
        ("1000000000000000.01", "amount_out_of_range"),
        ("-1000000000000000.01", "amount_out_of_range"),
        ("1e30", "amount_out_of_range"),
    ],
)
def test_bad_values(value: str, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        money(value)
    assert err.value.code == code


def test_limits_and_cents() -> None:
    assert money(MAX_AMOUNT) == MAX_AMOUNT
    assert money(-MAX_AMOUNT) == -MAX_AMOUNT
    assert to_cents(Decimal("1234567.89")) == 123456789
    assert to_cents(Decimal("-0.01")) == -1
    assert from_cents(123456789) == Decimal("1234567.89")
    assert str(from_cents(100)) == "1.00"
    assert to_cents(MAX_AMOUNT) == 10**17 < 2**63


AMOUNTS = st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=2)


@given(AMOUNTS)
def test_cents_round_trip(amount: Decimal) -> None:
    assert from_cents(to_cents(amount)) == amount
    assert money(amount) == amount
    assert money(amount).as_tuple().exponent == -2


@given(st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, allow_nan=False, places=6))
def test_rounding_moves_at_most_half_a_cent(value: Decimal) -> None:
    rounded = money(value)
    assert abs(rounded - value) <= CENT / 2
    assert money(rounded) == rounded


@given(st.integers(-(10**17), 10**17))
def test_from_cents_is_exact(cents: int) -> None:
    assert to_cents(from_cents(cents)) == cents
    assert (from_cents(cents) == ZERO) == (cents == 0)
