"""Risk score of a client: worked examples by hand and properties of the rules (shared/risk.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.risk import RiskFacts, level_of, risk_score

D = Decimal


def test_old_debt_broken_promises_and_no_recent_contact() -> None:
    # 137 days past due (91-180: 30) + 2 broken (2 x 15 = 30) + 26 days without contact (10)
    score = risk_score(RiskFacts(137, D("800000.00"), 2, 26))
    assert (score.score, score.level) == (70, "alto")
    assert [(r.code, r.points) for r in score.reasons] == [
        ("aging", 30),
        ("broken_promises", 30),
        ("no_contact", 10),
    ]
    assert [r.text for r in score.reasons] == [
        "Factura más antigua con 137 días de mora",
        "2 promesas incumplidas en los últimos 90 días",
        "Sin contacto efectivo hace 26 días",
    ]


def test_never_contacted_is_the_full_contact_part() -> None:
    # 10 days past due (10) + never contacted (30) = 40: medio; the largest part first
    score = risk_score(RiskFacts(10, D("50000.00"), 0, None))
    assert (score.score, score.level) == (40, "medio")
    assert [(r.code, r.points, r.text) for r in score.reasons] == [
        ("no_contact", 30, "Sin contacto efectivo registrado"),
        ("aging", 10, "Factura más antigua con 10 días de mora"),
    ]


def test_broken_promises_are_capped_and_one_is_singular() -> None:
    assert risk_score(RiskFacts(400, D(1), 5, 0)).score == 40 + 30
    (broken, aging) = risk_score(RiskFacts(1, D(1), 1, 3)).reasons  # largest first
    assert (broken.points, aging.points) == (15, 10)
    assert broken.text == "1 promesa incumplida en los últimos 90 días"


@pytest.mark.parametrize(
    ("days", "points"),
    [(1, 10), (30, 10), (31, 20), (60, 20), (61, 25), (90, 25), (91, 30), (180, 30), (181, 35),
     (360, 35), (361, 40)],
)  # fmt: skip
def test_aging_points_at_the_bucket_edges(days: int, points: int) -> None:
    assert risk_score(RiskFacts(days, D(1), 0, 0)).score == points


@pytest.mark.parametrize(
    ("days", "points"), [(0, 0), (14, 0), (15, 10), (29, 10), (30, 20), (59, 20), (60, 30)]
)
def test_contact_points_at_their_edges(days: int, points: int) -> None:
    assert risk_score(RiskFacts(1, D(1), 0, days)).score == 10 + points


def test_nothing_overdue_is_no_risk_whatever_else() -> None:
    assert risk_score(RiskFacts(0, D("0.00"), 3, None)).score == 0
    assert risk_score(RiskFacts(0, D("100.00"), 3, None)).reasons == ()  # not yet due
    assert risk_score(RiskFacts(200, D("0.00"), 3, None)).level == "bajo"  # credit, paid


def test_levels() -> None:
    assert [level_of(s) for s in (0, 34, 35, 59, 60, 100)] == [
        "bajo",
        "bajo",
        "medio",
        "medio",
        "alto",
        "alto",
    ]


facts = st.builds(
    RiskFacts,
    st.integers(0, 5000),
    st.decimals(min_value=0, max_value=10**9, places=2),
    st.integers(0, 20),
    st.none() | st.integers(0, 2000),
)


@given(facts)
def test_the_score_is_the_sum_of_its_reasons_within_0_and_100(f: RiskFacts) -> None:
    score = risk_score(f)
    assert 0 <= score.score <= 100
    assert score.score == sum(r.points for r in score.reasons)
    assert score.level == level_of(score.score)
    assert len({r.code for r in score.reasons}) == len(score.reasons)


@given(facts, st.integers(1, 400), st.integers(1, 5), st.integers(1, 400))
def test_older_debt_more_broken_promises_and_longer_silence_never_lower_the_score(
    f: RiskFacts, more_days: int, more_broken: int, more_silence: int
) -> None:
    base = risk_score(f).score
    older = RiskFacts(f.oldest_days_past_due + more_days, f.overdue_balance, f.broken_promises,
                      f.days_since_contact)  # fmt: skip
    assert risk_score(older).score >= base
    broken = RiskFacts(f.oldest_days_past_due, f.overdue_balance,
                       f.broken_promises + more_broken, f.days_since_contact)  # fmt: skip
    assert risk_score(broken).score >= base
    silent = RiskFacts(
        f.oldest_days_past_due,
        f.overdue_balance,
        f.broken_promises,
        None if f.days_since_contact is None else f.days_since_contact + more_silence,
    )
    assert risk_score(silent).score >= base
    never = RiskFacts(f.oldest_days_past_due, f.overdue_balance, f.broken_promises, None)
    assert risk_score(never).score >= base
