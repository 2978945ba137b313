"""`stop_priority` (worked examples from its documented scale) and the route plan file reader."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.routing import parse_plan_request, plan_route, plan_to_json, stop_priority


def test_worked_examples() -> None:
    nothing = stop_priority(
        promise_due_today=False, overdue_balance=Decimal(0), oldest_bucket_rank=0,
        days_since_last_visit=0,
    )  # fmt: skip
    assert nothing == 1.0
    # 1 + promise 100 + $ 1.000.000 overdue (20) + 61_90 (rank 3: 15) + 12 days (4)
    assert stop_priority(
        promise_due_today=True, overdue_balance=Decimal("1000000.00"), oldest_bucket_rank=3,
        days_since_last_visit=12,
    ) == 140.0  # fmt: skip
    # caps: balance 40, bucket 30 (mas_360), recency 20 (never visited)
    assert stop_priority(
        promise_due_today=False, overdue_balance=Decimal("5000000000"), oldest_bucket_rank=9,
        days_since_last_visit=None,
    ) == 91.0  # fmt: skip


balances = st.decimals(min_value=0, max_value=10**10, places=2)


@given(balances, balances, st.integers(0, 6), st.integers(0, 400) | st.none())
def test_more_overdue_never_lowers_it_and_a_promise_beats_everything_else(
    low: Decimal, high: Decimal, rank: int, days: int | None
) -> None:
    low, high = min(low, high), max(low, high)
    args: dict[str, Any] = {"oldest_bucket_rank": rank, "days_since_last_visit": days}
    assert stop_priority(promise_due_today=False, overdue_balance=low, **args) <= stop_priority(
        promise_due_today=False, overdue_balance=high, **args
    )
    best_without = stop_priority(
        promise_due_today=False, overdue_balance=Decimal(10**10), oldest_bucket_rank=6,
        days_since_last_visit=None,
    )  # fmt: skip
    assert stop_priority(promise_due_today=True, overdue_balance=low, **args) > best_without


FILE: dict[str, Any] = {
    "start": {"lat": 4.60, "lon": -74.08},
    "start_time": "2026-11-23T08:00:00-05:00",
    "stops": [{"id": "A", "lat": 4.61, "lon": -74.08}, {"id": "B", "lat": 4.62, "lon": -74.08}],
}


def test_the_minimal_file_is_a_shortest_path_with_the_defaults() -> None:
    request = parse_plan_request(FILE)
    assert request.speed_kmh == 18 and request.detour_factor == 1.3
    assert request.service_minutes == 0 and request.rules is not None
    out = plan_to_json(plan_route(request))
    assert out["order"] == ["A", "B"] and out["skipped"] == []
    assert out["distance_m"] == round(2 * 1111.95 * 1.3)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"stops": [{"id": "A", "lat": 4.6, "lon": 200}]}, "invalid_coordinates"),
        ({"stops": [{"id": "A", "lat": "4.6", "lon": -74}]}, "invalid_coordinates"),
        ({"stops": [{"id": "", "lat": 4.6, "lon": -74}]}, "invalid_stop_id"),
        ({"stops": [{"id": "A", "lat": 4.6, "lon": -74, "priority": -1}]}, "invalid_priority"),
        ({"stops": [{"id": "A", "lat": 4.6, "lon": -74, "window": ["09:00"]}]}, "invalid_window"),
        ({"stops": "A"}, "invalid_field"),
        ({"start_time": "mañana"}, "invalid_time"),
        ({"end_time": "2026-11-23T17:00:00"}, "naive_datetime"),
        ({"detour_factor": 0.5}, "invalid_detour_factor"),
        ({"service_minutes": -1}, "invalid_service_minutes"),
        ({"timezone": "Mars/Olympus"}, "invalid_timezone"),
        ({"legal_hours": "yes"}, "invalid_field"),
    ],
)
def test_bad_files_raise_invalid_input_with_a_stable_code(
    change: dict[str, Any], code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plan_request({**FILE, **change})
    assert caught.value.code == code
