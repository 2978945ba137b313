"""KPI arithmetic (shared/kpis.py): worked examples and the additivity the team figures rely on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shared.kpis import KpiTally, figures, pct, per_week, period_days
from shared.promises import PromiseStatus

D = Decimal


def test_percentages_round_half_up_and_are_null_without_a_base() -> None:
    assert pct(D("600000.00"), D("2000000.00")) == D("30.00")
    assert pct(3, 7) == D("42.86")
    assert pct(1, 8) == D("12.50")
    assert pct(1, 3) == D("33.33")
    assert pct(2, 3) == D("66.67")
    assert pct(D("0.00"), D("0.00")) is None
    assert pct(5, 0) is None


def test_weekly_rates_of_a_period() -> None:
    assert period_days(date(2026, 11, 2), date(2026, 11, 15)) == 14
    assert per_week(7, 14) == D("3.50")
    assert per_week(9, 7) == D("9.00")  # an ISO week's rate is its count
    assert per_week(10, 30) == D("2.33")


def test_figures_of_a_tally() -> None:
    t = KpiTally(
        overdue_at_start=D("1200000.00"),
        overdue_invoices=2,
        recovered=D("600000.00"),
        settled_invoices=2,
        settled_days=21 + 10,
        visits=5,
        effective_contacts=4,
        verified_visits=3,
        flagged_visits=1,
        promises_made=2,
    )
    for status in (PromiseStatus.KEPT, PromiseStatus.PARTIAL, PromiseStatus.PENDING):
        t.count_promise(status)
    f = figures(t, 14)
    assert (f.recovery_pct, f.avg_recovery_days) == (D("50.00"), D("15.5"))
    assert (f.visits_per_week, f.effective_contacts_per_week) == (D("2.50"), D("2.00"))
    assert f.verified_share_pct == D("60.00")
    assert (f.promises_due, f.promises_pending) == (3, 1)
    assert f.kept_rate_pct == D("50.00")  # pending is not judged: 1 kept of 2


def test_an_empty_tally_has_no_ratios() -> None:
    f = figures(KpiTally(), 7)
    assert (f.recovery_pct, f.avg_recovery_days, f.verified_share_pct, f.kept_rate_pct) == (
        None,
        None,
        None,
        None,
    )
    assert f.visits_per_week == D("0.00")


money = st.decimals(min_value=0, max_value=10**9, places=2)
counts = st.integers(0, 10_000)
tallies = st.builds(
    KpiTally,
    overdue_at_start=money,
    overdue_invoices=counts,
    recovered=money,
    settled_invoices=counts,
    settled_days=counts,
    visits=counts,
    effective_contacts=counts,
    verified_visits=counts,
    flagged_visits=counts,
    promises_made=counts,
    promises_kept=counts,
    promises_partial=counts,
    promises_broken=counts,
    promises_pending=counts,
)


@given(st.lists(tallies, max_size=6))
def test_the_team_is_the_sum_of_its_parts_in_any_order(parts: list[KpiTally]) -> None:
    forward, backward = KpiTally(), KpiTally()
    for t in parts:
        forward.add(t)
    for t in reversed(parts):
        backward.add(t)
    assert forward == backward
    assert forward.visits == sum(t.visits for t in parts)
    assert forward.recovered == sum((t.recovered for t in parts), D("0.00"))
    assert figures(forward, 7) == figures(backward, 7)
