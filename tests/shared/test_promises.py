from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.calendar import business_tz
from shared.errors import InvalidInput
from shared.promises import PaymentMade, Promise, PromiseStatus, promise_status

BOGOTA = business_tz("America/Bogota")


def bog(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BOGOTA)


# Made on Tuesday 10 Nov 2026 at 10:00 in Bogotá, for $500.000 on Friday 20 Nov; the grace day
# makes Saturday 21 Nov the last day a payment counts.
PROMISE = Promise(
    made_at=bog(2026, 11, 10, 10, 0), due_date=date(2026, 11, 20), amount=Decimal(500000)
)


def pay(amount: int, month: int, day: int, hour: int, minute: int) -> PaymentMade:
    return PaymentMade(paid_at=bog(2026, month, day, hour, minute), amount=Decimal(amount))


def status(
    payments: list[PaymentMade], month: int, day: int, hour: int, minute: int, grace: int = 1
) -> PromiseStatus:
    as_of = bog(2026, month, day, hour, minute)
    return promise_status(PROMISE, payments, as_of, grace_days=grace).status


class TestWorkedExamples:
    def test_pending_before_the_date(self) -> None:
        outcome = promise_status(PROMISE, [], bog(2026, 11, 15, 12, 0))
        assert outcome.status is PromiseStatus.PENDING
        assert outcome.paid == Decimal("0.00")
        assert outcome.deadline == date(2026, 11, 21)
        assert not outcome.is_final

    def test_still_pending_through_the_grace_day(self) -> None:
        assert status([], 11, 21, 23, 59) is PromiseStatus.PENDING

    def test_broken_once_the_grace_day_is_over(self) -> None:
        assert status([], 11, 22, 0, 0) is PromiseStatus.BROKEN

    def test_partial(self) -> None:
        outcome = promise_status(PROMISE, [pay(300000, 11, 18, 9, 0)], bog(2026, 11, 22, 8, 0))
        assert outcome.status is PromiseStatus.PARTIAL
        assert outcome.paid == Decimal("300000.00")

    def test_partial_payment_is_pending_while_there_is_time(self) -> None:
        assert status([pay(300000, 11, 18, 9, 0)], 11, 20, 8, 0) is (PromiseStatus.PENDING)

    def test_kept_by_two_payments_the_second_on_the_grace_day_evening(self) -> None:
        # 20:00 Saturday in Bogotá is already Sunday 01:00 UTC: the business day decides.
        late = PaymentMade(paid_at=datetime(2026, 11, 22, 1, 0, tzinfo=UTC), amount=Decimal(200000))
        payments = [pay(300000, 11, 18, 9, 0), late]
        outcome = promise_status(PROMISE, payments, bog(2026, 11, 23, 8, 0))
        assert outcome.status is PromiseStatus.KEPT
        assert outcome.paid == Decimal("500000.00")

    def test_without_grace_the_saturday_payment_is_late(self) -> None:
        payments = [pay(300000, 11, 18, 9, 0), pay(200000, 11, 21, 10, 0)]
        assert status(payments, 11, 23, 8, 0, grace=0) is PromiseStatus.PARTIAL
        assert status(payments, 11, 23, 8, 0) is PromiseStatus.KEPT

    def test_payment_after_the_grace_day_does_not_keep_it(self) -> None:
        assert status([pay(500000, 11, 22, 9, 0)], 11, 23, 8, 0) is (PromiseStatus.BROKEN)

    def test_payments_before_the_promise_do_not_count(self) -> None:
        # Same day, one hour before the promise was made (e.g. paid at the door, then promised).
        payments = [pay(500000, 11, 9, 15, 0), pay(500000, 11, 10, 9, 0)]
        assert status(payments, 11, 23, 8, 0) is PromiseStatus.BROKEN

    def test_kept_early_as_soon_as_it_is_covered(self) -> None:
        payments = [pay(600000, 11, 12, 16, 0)]
        outcome = promise_status(PROMISE, payments, bog(2026, 11, 12, 17, 0))
        assert outcome.status is PromiseStatus.KEPT
        assert outcome.paid == Decimal("600000.00")
        assert outcome.is_final

    def test_payments_after_as_of_are_not_known_yet(self) -> None:
        payments = [pay(500000, 11, 18, 9, 0)]
        assert status(payments, 11, 15, 8, 0) is PromiseStatus.PENDING


def test_promise_amount_must_be_positive() -> None:
    with pytest.raises(InvalidInput):
        Promise(made_at=bog(2026, 1, 2, 9, 0), due_date=date(2026, 1, 9), amount=Decimal(0))


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidInput):
        Promise(made_at=datetime(2026, 1, 2, 9), due_date=date(2026, 1, 9), amount=Decimal(1))  # noqa: DTZ001
    with pytest.raises(InvalidInput):
        promise_status(PROMISE, [], datetime(2026, 11, 30))  # noqa: DTZ001


# Payments as (hours after the promise was made, whole pesos); as_of likewise.
PAYMENTS = st.lists(st.tuples(st.integers(-48, 24 * 20), st.integers(1, 400_000)), max_size=6)


def _payments(raw: list[tuple[int, int]]) -> list[PaymentMade]:
    return [PaymentMade(PROMISE.made_at + timedelta(hours=h), Decimal(amount)) for h, amount in raw]


@given(PAYMENTS, st.integers(0, 24 * 20), st.integers(0, 24 * 20))
def test_final_statuses_never_change_later(raw: list[tuple[int, int]], h1: int, h2: int) -> None:
    early, late = sorted((h1, h2))
    payments = _payments(raw)
    first = promise_status(PROMISE, payments, PROMISE.made_at + timedelta(hours=early))
    second = promise_status(PROMISE, payments, PROMISE.made_at + timedelta(hours=late))
    assert second.paid >= first.paid
    if first.is_final:
        assert second.status is first.status


@given(PAYMENTS, st.integers(0, 24 * 20), st.randoms())
def test_status_follows_from_the_counted_sum(
    raw: list[tuple[int, int]], h: int, rnd: random.Random
) -> None:
    payments = _payments(raw)
    as_of = PROMISE.made_at + timedelta(hours=h)
    outcome = promise_status(PROMISE, payments, as_of)
    shuffled = list(payments)
    rnd.shuffle(shuffled)
    assert promise_status(PROMISE, shuffled, as_of) == outcome
    counted = sum(
        (
            p.amount
            for p in payments
            if PROMISE.made_at <= p.paid_at <= as_of
            and p.paid_at.astimezone(BOGOTA).date() <= date(2026, 11, 21)
        ),
        Decimal(0),
    )
    assert outcome.paid == counted
    assert (outcome.status is PromiseStatus.KEPT) == (counted >= PROMISE.amount)
    if outcome.status is PromiseStatus.PARTIAL:
        assert Decimal(0) < counted < PROMISE.amount
    if outcome.status is PromiseStatus.BROKEN:
        assert counted == 0
