"""Compliance of a payment agreement (acuerdo de pago), derived from the client's payments and
never typed in (domain.md: "Acuerdo de pago ... compliance tracked"; the grace rule of "Promise
status").

Rules of this file: a pure function of (installments, the agreement's start, the payments, the
business date `as_of`), all by business date.
- The money that counts is every payment of the client made on or after the start (the day the
  agreement was proposed or created) and on or before `as_of` (later payments are not yet known,
  so a past compliance can be recomputed exactly). Reversed payments are the caller's to leave out.
- That money covers the installments cumulatively, in due order: the first installment is paid
  before a peso goes to the second (a client who pays two installments at once is ahead, not in
  arrears, and paying late still pays).
- Each installment is then `paid` (covered), or, while not covered: `pending` (nothing yet, not
  due), `partial` (some, not due), `late` (past due, grace not over: due date + GRACE_DAYS) or
  `missed` (past due and grace over).
- The standing: `completed` when every installment is paid, `broken` while any is missed, else
  `on_track`. Broken is the state today, not a verdict for ever: a client who catches up is on
  track again (the office decides whether a broken agreement is cancelled). Whether the office
  approved the agreement (proposed, active...) is not derived here.

The phone, which gets each installment's `paid` at the pull's business date, recomputes at its own
date with `compliance_of_paid(installments, paid_so_far + money collected since, today)`: money
never moves between installments except in due order, so the sum of the paid amounts is all it
needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

from shared.errors import InvalidInput
from shared.money import MAX_AMOUNT, ZERO, money
from shared.promises import GRACE_DAYS as PROMISE_GRACE_DAYS

# The same grace as a promise to pay: a payment the day after the due date is late, not missed.
GRACE_DAYS: Final = PROMISE_GRACE_DAYS
INVALID: Final = "agreement_invalid"
# A proposal is about the future: its first installment may be due at most this many days before
# the day it is made (written just before midnight, a phone's clock a few hours off), and its last
# at most this many days after.
PAST_DAYS: Final = 2
HORIZON_DAYS: Final = 3660  # ten years


class InstallmentStatus(StrEnum):
    PAID = "paid"
    PARTIAL = "partial"
    PENDING = "pending"
    LATE = "late"
    MISSED = "missed"


class Standing(StrEnum):
    ON_TRACK = "on_track"
    BROKEN = "broken"
    COMPLETED = "completed"


@dataclass(frozen=True)
class Installment:
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class PaymentOn:
    """A payment of the client that still stands, by business date."""

    day: date
    amount: Decimal


@dataclass(frozen=True)
class InstallmentOutcome:
    due_date: date
    amount: Decimal
    paid: Decimal  # the part of the counted money that covers this installment (<= amount)
    status: InstallmentStatus


@dataclass(frozen=True)
class Compliance:
    installments: tuple[InstallmentOutcome, ...]
    standing: Standing
    paid: Decimal  # all the money counted (may exceed the total: an overpayment)

    @property
    def total(self) -> Decimal:
        return sum((i.amount for i in self.installments), ZERO)

    @property
    def missed(self) -> int:
        return sum(1 for i in self.installments if i.status is InstallmentStatus.MISSED)


def check_schedule(installments: Sequence[Installment]) -> Decimal:
    """The total of a valid schedule: at least one installment, each for a positive amount, due
    dates strictly increasing, and a total in range. Else InvalidInput `agreement_invalid`."""
    if not installments:
        raise InvalidInput("un acuerdo tiene al menos una cuota", code=INVALID)
    total = ZERO
    previous: date | None = None
    for n, item in enumerate(installments, start=1):
        if money(item.amount) <= ZERO:
            raise InvalidInput(f"la cuota {n} no tiene un valor positivo", code=INVALID)
        if previous is not None and item.due_date <= previous:
            raise InvalidInput(
                f"la cuota {n} vence el mismo día o antes que la anterior", code=INVALID
            )
        previous = item.due_date
        total += money(item.amount)
        if total > MAX_AMOUNT:
            raise InvalidInput("el total del acuerdo está fuera de rango", code=INVALID)
    return total


def check_proposal(installments: Sequence[Installment], today: date) -> Decimal:
    """`check_schedule`, and the dates fit a proposal made on `today` (PAST_DAYS, HORIZON_DAYS)."""
    total = check_schedule(installments)
    if installments[0].due_date < today - timedelta(days=PAST_DAYS):
        raise InvalidInput("la primera cuota vence en el pasado", code=INVALID)
    if installments[-1].due_date > today + timedelta(days=HORIZON_DAYS):
        raise InvalidInput("la última cuota vence en más de diez años", code=INVALID)
    return total


def paid_since(start: date, payments: Iterable[PaymentOn], as_of: date) -> Decimal:
    """The money that counts towards an agreement started on `start`, known at `as_of`."""
    return sum((money(p.amount) for p in payments if start <= p.day <= as_of), ZERO)


def compliance(
    installments: Sequence[Installment],
    start: date,
    payments: Iterable[PaymentOn],
    as_of: date,
    grace_days: int = GRACE_DAYS,
) -> Compliance:
    """The compliance at `as_of` of an agreement started on `start` (see the module rules)."""
    return compliance_of_paid(installments, paid_since(start, payments, as_of), as_of, grace_days)


def compliance_of_paid(
    installments: Sequence[Installment],
    paid: Decimal,
    as_of: date,
    grace_days: int = GRACE_DAYS,
) -> Compliance:
    """The compliance at `as_of` when `paid` is all the money counted so far."""
    left = max(money(paid), ZERO)
    outcomes: list[InstallmentOutcome] = []
    for item in sorted(installments, key=lambda i: i.due_date):
        amount = money(item.amount)
        covered = min(left, amount)
        left -= covered
        outcomes.append(
            InstallmentOutcome(
                item.due_date,
                amount,
                covered,
                _status(item.due_date, amount, covered, as_of, grace_days),
            )
        )
    statuses = {o.status for o in outcomes}
    if statuses <= {InstallmentStatus.PAID}:
        standing = Standing.COMPLETED
    elif InstallmentStatus.MISSED in statuses:
        standing = Standing.BROKEN
    else:
        standing = Standing.ON_TRACK
    return Compliance(tuple(outcomes), standing, max(money(paid), ZERO))


def _status(
    due: date, amount: Decimal, covered: Decimal, as_of: date, grace_days: int
) -> InstallmentStatus:
    if covered >= amount:
        return InstallmentStatus.PAID
    if as_of <= due:
        return InstallmentStatus.PARTIAL if covered > ZERO else InstallmentStatus.PENDING
    if as_of <= due + timedelta(days=grace_days):
        return InstallmentStatus.LATE
    return InstallmentStatus.MISSED
