"""Money: `Decimal` with two places, never float. Parsing of user input lives in the importers."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from shared.errors import InvalidInput

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Larger than any receivable a collections team handles (a quadrillion pesos), small enough to fit
# a signed 64-bit count of cents with room for sums.
MAX_AMOUNT = Decimal("1000000000000000.00")
# The largest payment one collector plausibly takes in the field (a hundred billion pesos). The
# server holds a larger one in suspense (reason `amount_implausible`) instead of posting it, so a
# chunk of at most 200 events moves a balance by far less than MAX_AMOUNT.
MAX_FIELD_PAYMENT = Decimal("100000000000.00")


def money(value: Decimal | int | str) -> Decimal:
    """Quantize to cents (banker's rounding). Refuses floats: they cannot hold money exactly."""
    if isinstance(value, float):
        raise TypeError("money must not be built from a float")
    try:
        raw = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(f"not an amount: {value!r}", code="invalid_amount") from exc
    if not raw.is_finite():
        raise InvalidInput(f"not an amount: {value!r}", code="invalid_amount")
    # Checked before quantizing: 1e30 would overflow the context's 28 digits there.
    if raw.adjusted() > MAX_AMOUNT.adjusted() or abs(raw) > MAX_AMOUNT:
        raise InvalidInput(f"amount out of range: {value!r}", code="amount_out_of_range")
    amount = raw.quantize(CENT, rounding=ROUND_HALF_EVEN)
    # -0.004 rounds to -0.00; hand out plain 0.00 so it never shows as "-0.00" or "-$ 0".
    return ZERO if amount == ZERO else amount


def to_cents(amount: Decimal) -> int:
    return int(money(amount) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)
