"""Promise-to-pay status, derived from payments and never typed in (domain.md, "Promise status").

Rules of this file: a pure function of (promise, the client's payments, as_of). A payment counts
towards a promise when it was made at or after the moment the promise was made and on or before
the promise's date plus the grace days (1 by default), by business date. Payments after `as_of`
are not yet known and are ignored, so a past status can be recomputed exactly.

- `kept`: the counted payments cover the amount, as soon as they do (a promise paid early is kept,
  not "pending" until its date: the supervisor's list of promises due must not show it);
- `pending`: not covered yet and the grace period has not ended (business date of `as_of` is on or
  before date + grace);
- after that, `partial` if some was paid and `broken` if nothing was.
Reversed payments are the caller's to leave out: only payments that still stand count.
A payment counts for every promise whose window contains it (a renewed promise and the one it
renews can both be kept by the same money); counting promises "kept" is a KPI, not a ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Final

from shared.calendar import business_date, require_aware
from shared.errors import InvalidInput
from shared.money import ZERO, money

GRACE_DAYS: Final = 1


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    PARTIAL = "partial"
    BROKEN = "broken"


@dataclass(frozen=True)
class Promise:
    made_at: datetime
    due_date: date
    amount: Decimal

    def __post_init__(self) -> None:
        require_aware(self.made_at, "made_at")
        if money(self.amount) <= ZERO:
            raise InvalidInput("una promesa es por un valor positivo", code="invalid_amount")


@dataclass(frozen=True)
class PaymentMade:
    paid_at: datetime
    amount: Decimal


@dataclass(frozen=True)
class PromiseOutcome:
    status: PromiseStatus
    paid: Decimal  # counted towards the promise (may exceed the amount)
    deadline: date  # last business day a payment counts: due date + grace

    @property
    def is_final(self) -> bool:
        return self.status is not PromiseStatus.PENDING


def promise_deadline(promise: Promise, grace_days: int = GRACE_DAYS) -> date:
    return promise.due_date + timedelta(days=grace_days)


def promise_status(
    promise: Promise,
    payments: Iterable[PaymentMade],
    as_of: datetime,
    tz: tzinfo | str | None = None,
    grace_days: int = GRACE_DAYS,
) -> PromiseOutcome:
    """The status of `promise` at `as_of` given the client's payments (see the module rules)."""
    require_aware(as_of, "as_of")
    deadline = promise_deadline(promise, grace_days)
    paid = ZERO
    for payment in payments:
        at = require_aware(payment.paid_at, "paid_at")
        if promise.made_at <= at <= as_of and business_date(at, tz) <= deadline:
            paid += money(payment.amount)
    if paid >= promise.amount:
        status = PromiseStatus.KEPT
    elif business_date(as_of, tz) <= deadline:
        status = PromiseStatus.PENDING
    elif paid > ZERO:
        status = PromiseStatus.PARTIAL
    else:
        status = PromiseStatus.BROKEN
    return PromiseOutcome(status, paid, deadline)
