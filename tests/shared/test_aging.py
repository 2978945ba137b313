from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.aging import bucket_for, bucket_names, days_past_due, validate_edges


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-45, "al_dia"),
        (0, "al_dia"),  # due today: not yet overdue
        (1, "1_30"),
        (30, "1_30"),
        (31, "31_60"),
        (60, "31_60"),
        (61, "61_90"),
        (90, "61_90"),
        (91, "91_180"),
        (180, "91_180"),
        (181, "181_360"),
        (360, "181_360"),
        (361, "mas_360"),
        (5000, "mas_360"),
    ],
)
def test_default_buckets(days: int, bucket: str) -> None:
    assert bucket_for(days) == bucket


def test_days_past_due_counts_calendar_days() -> None:
    # February 2026 has 28 days: 31 Jan -> 2 Mar is 30 days.
    assert days_past_due(date(2026, 1, 31), date(2026, 3, 2)) == 30
    assert days_past_due(date(2024, 1, 31), date(2024, 3, 2)) == 31  # leap year
    assert days_past_due(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert days_past_due(date(2026, 3, 10), date(2026, 3, 2)) == -8


def test_bucket_names() -> None:
    assert bucket_names() == ["al_dia", "1_30", "31_60", "61_90", "91_180", "181_360", "mas_360"]
    assert bucket_names((15, 45)) == ["al_dia", "1_15", "16_45", "mas_45"]
    assert bucket_names(()) == ["al_dia", "vencido"]


def test_custom_edges() -> None:
    assert [bucket_for(d, (15, 45)) for d in (0, 1, 15, 16, 45, 46)] == [
        "al_dia", "1_15", "1_15", "16_45", "16_45", "mas_45",
    ]  # fmt: skip
    assert bucket_for(1, ()) == "vencido"


@pytest.mark.parametrize("edges", [(0, 30), (30, 30), (60, 30), (-1,)])
def test_invalid_edges(edges: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="aging edges"):
        validate_edges(edges)


EDGES = st.lists(st.integers(1, 2000), max_size=8, unique=True).map(lambda e: tuple(sorted(e)))


def _range(name: str) -> tuple[float, float]:
    """The days a bucket name stands for, read back from the name itself."""
    if name == "al_dia":
        return (-float("inf"), 0)
    if name.startswith("mas_"):
        return (int(name.removeprefix("mas_")) + 1, float("inf"))
    if name == "vencido":
        return (1, float("inf"))
    low, high = name.split("_")
    return (int(low), int(high))


@given(st.integers(-1000, 5000), EDGES)
def test_every_day_is_in_exactly_one_bucket(days: int, edges: tuple[int, ...]) -> None:
    validate_edges(edges)
    containing = [n for n in bucket_names(edges) if _range(n)[0] <= days <= _range(n)[1]]
    assert containing == [bucket_for(days, edges)]


@given(st.integers(-1000, 5000), st.integers(-1000, 5000), EDGES)
def test_buckets_are_monotone_in_days(a: int, b: int, edges: tuple[int, ...]) -> None:
    names = bucket_names(edges)
    early, late = sorted((a, b))
    assert names.index(bucket_for(early, edges)) <= names.index(bucket_for(late, edges))
