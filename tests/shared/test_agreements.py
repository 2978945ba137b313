"""Agreement compliance (shared/agreements.py): worked examples by hand, then properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.agreements import (
    GRACE_DAYS,
    Installment,
    InstallmentStatus,
    PaymentOn,
    Standing,
    check_schedule,
    compliance,
    compliance_of_paid,
)
from shared.errors import InvalidInput

P, PA, PE, L, M = (
    InstallmentStatus.PAID,
    InstallmentStatus.PARTIAL,
    InstallmentStatus.PENDING,
    InstallmentStatus.LATE,
    InstallmentStatus.MISSED,
)

# Agreed on Tuesday 10 Nov 2026: three installments of $300.000 on 20 Nov, 20 Dec and 20 Jan.
START = date(2026, 11, 10)
PLAN = (
    Installment(date(2026, 11, 20), Decimal(300000)),
    Installment(date(2026, 12, 20), Decimal(300000)),
    Installment(date(2027, 1, 20), Decimal(300000)),
)


def pay(amount: int, month: int, day: int, year: int = 2026) -> PaymentOn:
    return PaymentOn(date(year, month, day), Decimal(amount))


def statuses(payments: list[PaymentOn], as_of: date) -> tuple[list[InstallmentStatus], Standing]:
    result = compliance(PLAN, START, payments, as_of)
    return [i.status for i in result.installments], result.standing


class TestWorkedExamples:
    def test_nothing_paid_before_the_first_due_date_is_on_track(self) -> None:
        assert statuses([], date(2026, 11, 15)) == ([PE, PE, PE], Standing.ON_TRACK)

    def test_a_partial_payment_before_the_due_date(self) -> None:
        result = compliance(PLAN, START, [pay(100000, 11, 12)], date(2026, 11, 15))
        assert [i.status for i in result.installments] == [PA, PE, PE]
        assert [i.paid for i in result.installments] == [Decimal(100000), 0, 0]

    def test_the_day_after_the_due_date_is_late_and_the_next_is_missed(self) -> None:
        # Due Friday 20 Nov, grace of one day: Saturday 21 is late, Sunday 22 missed.
        assert GRACE_DAYS == 1
        assert statuses([], date(2026, 11, 20)) == ([PE, PE, PE], Standing.ON_TRACK)
        assert statuses([], date(2026, 11, 21)) == ([L, PE, PE], Standing.ON_TRACK)
        assert statuses([], date(2026, 11, 22)) == ([M, PE, PE], Standing.BROKEN)

    def test_a_short_payment_past_the_grace_is_missed_with_what_was_paid(self) -> None:
        result = compliance(PLAN, START, [pay(250000, 11, 19)], date(2026, 11, 25))
        first = result.installments[0]
        assert (first.status, first.paid) == (M, Decimal(250000))
        assert result.standing is Standing.BROKEN

    def test_money_covers_the_installments_in_due_order(self) -> None:
        # $450.000 on 18 Nov: the first installment paid, $150.000 ahead on the second.
        result = compliance(PLAN, START, [pay(450000, 11, 18)], date(2026, 12, 1))
        assert [i.paid for i in result.installments] == [Decimal(300000), Decimal(150000), 0]
        assert [i.status for i in result.installments] == [P, PA, PE]
        assert result.standing is Standing.ON_TRACK

    def test_catching_up_puts_a_broken_agreement_back_on_track(self) -> None:
        payments = [pay(300000, 11, 30)]
        assert statuses(payments, date(2026, 11, 29)) == ([M, PE, PE], Standing.BROKEN)
        assert statuses(payments, date(2026, 11, 30)) == ([P, PE, PE], Standing.ON_TRACK)

    def test_payments_before_the_start_or_after_as_of_do_not_count(self) -> None:
        payments = [pay(300000, 11, 9), pay(300000, 12, 2)]
        assert statuses(payments, date(2026, 12, 1)) == ([M, PE, PE], Standing.BROKEN)
        # A payment on the start day counts (the first installment collected in the same visit).
        assert statuses([pay(300000, 11, 10)], date(2026, 12, 1)) == (
            [P, PE, PE],
            Standing.ON_TRACK,
        )

    def test_all_paid_is_completed_even_early_and_overpaid(self) -> None:
        result = compliance(
            PLAN, START, [pay(500000, 11, 11), pay(500000, 11, 12)], date(2026, 11, 12)
        )
        assert result.standing is Standing.COMPLETED
        assert result.paid == Decimal(1000000)
        assert sum(i.paid for i in result.installments) == Decimal(900000)

    def test_the_phone_recomputes_from_the_paid_amounts_it_got(self) -> None:
        # The pull on 18 Nov said $300.000 paid; the collector takes $300.000 more on 21 Dec.
        pulled = compliance(PLAN, START, [pay(300000, 11, 18)], date(2026, 11, 18))
        so_far = sum((i.paid for i in pulled.installments), Decimal(0))
        at_phone = compliance_of_paid(PLAN, so_far + Decimal(300000), date(2026, 12, 21))
        assert [i.status for i in at_phone.installments] == [P, P, PE]
        # Without the new money, 22 Dec the second installment is missed.
        assert compliance_of_paid(PLAN, so_far, date(2026, 12, 22)).standing is Standing.BROKEN


class TestSchedule:
    def test_a_valid_schedule_gives_its_total(self) -> None:
        assert check_schedule(PLAN) == Decimal("900000.00")

    @pytest.mark.parametrize(
        "plan",
        [
            (),
            (Installment(date(2026, 11, 20), Decimal(0)),),
            (Installment(date(2026, 11, 20), Decimal(-5)),),
            (
                Installment(date(2026, 11, 20), Decimal(1)),
                Installment(date(2026, 11, 20), Decimal(1)),
            ),
            (
                Installment(date(2026, 11, 21), Decimal(1)),
                Installment(date(2026, 11, 20), Decimal(1)),
            ),
            tuple(
                Installment(date(2026, 11, 20) + timedelta(days=n), Decimal("999999999999999"))
                for n in range(3)
            ),
        ],
    )
    def test_bad_schedules_are_refused_with_a_stable_code(
        self, plan: tuple[Installment, ...]
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            check_schedule(plan)
        assert caught.value.code == "agreement_invalid"


# --- properties ---------------------------------------------------------------------------------

DAY0 = date(2026, 1, 1)
amounts = st.integers(min_value=1, max_value=10**9).map(lambda c: Decimal(c) / 100)


@st.composite
def plans(draw: st.DrawFn) -> tuple[Installment, ...]:
    gaps = draw(st.lists(st.integers(1, 60), min_size=1, max_size=12))
    due, items = DAY0, []
    for gap in gaps:
        due += timedelta(days=gap)
        items.append(Installment(due, draw(amounts)))
    return tuple(items)


payments_st = st.lists(
    st.builds(PaymentOn, st.integers(-30, 800).map(lambda d: DAY0 + timedelta(days=d)), amounts),
    max_size=10,
)
days = st.integers(0, 800).map(lambda d: DAY0 + timedelta(days=d))
RANK = {M: 0, L: 1, PE: 2, PA: 3, P: 4}
STANDING_RANK = {Standing.BROKEN: 0, Standing.ON_TRACK: 1, Standing.COMPLETED: 2}


@given(plans(), st.integers(0, 2 * 10**11).map(lambda c: Decimal(c) / 100), days)
def test_money_is_allocated_in_due_order_and_never_lost(
    plan: tuple[Installment, ...], paid: Decimal, as_of: date
) -> None:
    result = compliance_of_paid(plan, paid, as_of)
    total = check_schedule(plan)
    assert sum(i.paid for i in result.installments) == min(paid, total)
    covered = [i.paid == i.amount for i in result.installments]
    assert covered == sorted(covered, reverse=True)  # the paid ones are a prefix
    assert sum(1 for i in result.installments if 0 < i.paid < i.amount) <= 1
    assert (result.standing is Standing.COMPLETED) == (paid >= total)
    assert (result.standing is Standing.BROKEN) == any(i.status is M for i in result.installments)


@given(plans(), amounts, amounts, days)
def test_more_money_never_makes_it_worse(
    plan: tuple[Installment, ...], paid: Decimal, more: Decimal, as_of: date
) -> None:
    less_paid = compliance_of_paid(plan, paid, as_of)
    more_paid = compliance_of_paid(plan, paid + more, as_of)
    for a, b in zip(less_paid.installments, more_paid.installments, strict=True):
        assert RANK[b.status] >= RANK[a.status]
    assert STANDING_RANK[more_paid.standing] >= STANDING_RANK[less_paid.standing]


@given(plans(), amounts, days, st.integers(0, 400))
def test_time_without_money_never_makes_it_better(
    plan: tuple[Installment, ...], paid: Decimal, as_of: date, later: int
) -> None:
    now = compliance_of_paid(plan, paid, as_of)
    then = compliance_of_paid(plan, paid, as_of + timedelta(days=later))
    assert STANDING_RANK[then.standing] <= STANDING_RANK[now.standing]
    for a, b in zip(now.installments, then.installments, strict=True):
        assert a.paid == b.paid
        if a.status in (L, M):
            assert b.status in (L, M) and RANK[b.status] <= RANK[a.status]


@given(plans(), payments_st, days, days)
def test_compliance_counts_exactly_the_payments_between_start_and_as_of(
    plan: tuple[Installment, ...], payments: list[PaymentOn], start: date, as_of: date
) -> None:
    counted = sum((p.amount for p in payments if start <= p.day <= as_of), Decimal("0.00"))
    assert compliance(plan, start, payments, as_of) == compliance_of_paid(plan, counted, as_of)
    # The phone's recomputation from the paid amounts agrees with the full one.
    result = compliance(plan, start, payments, as_of)
    so_far = sum((i.paid for i in result.installments), Decimal("0.00"))
    assert compliance_of_paid(plan, so_far, as_of).installments == result.installments


@given(plans(), days)
def test_an_installment_is_missed_exactly_after_its_grace(
    plan: tuple[Installment, ...], as_of: date
) -> None:
    result = compliance_of_paid(plan, Decimal(0), as_of)
    for item in result.installments:
        grace_end = item.due_date + timedelta(days=GRACE_DAYS)
        expected = PE if as_of <= item.due_date else L if as_of <= grace_end else M
        assert item.status is expected
