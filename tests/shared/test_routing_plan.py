"""The day planner: worked examples, skip reasons, brute force on small instances, properties."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import InvalidInput
from shared.geo import Point
from shared.routing import (
    CLOSED_DAY,
    DAY_END,
    HOLIDAY,
    NO_TIME,
    OUTSIDE_LEGAL_HOURS,
    WINDOW_CLOSED,
    Plan,
    PlanRequest,
    Stop,
    plan_route,
    replan,
)
from shared.routing.planner import _build
from tests.shared.routing_helpers import (
    BOGOTA,
    MONDAY,
    check_plan,
    instances,
    route_length,
    simulate,
)

START = Point(4.60, -74.08)
# 0.01° of latitude on the planner's sphere (R = 6371008.8 m) is 1111.95 m; at 36 km/h (10 m/s)
# with no detour that is 111.2 s, rounded up to 112 s.
NORTH_1 = Point(4.61, -74.08)
NORTH_2 = Point(4.62, -74.08)


def request(*stops: Stop, **changes: object) -> PlanRequest:
    base: dict[str, object] = {
        "start": START,
        "start_time": MONDAY,
        "speed_kmh": 36,
        "detour_factor": 1.0,
        "stops": stops,
    }
    base.update(changes)
    return PlanRequest(**base)  # type: ignore[arg-type]


def reasons(plan: Plan) -> dict[str, str]:
    return {s.id: s.reason for s in plan.skipped}


def test_no_stops_is_an_empty_plan() -> None:
    plan = plan_route(request())
    assert plan.order == () and plan.skipped == () and plan.distance_m == 0


def test_worked_example_waits_for_the_window_to_open() -> None:
    far = Stop("B", NORTH_2, window=(time(9), time(12)), service_minutes=20)
    near = Stop("A", NORTH_1, service_minutes=10)
    plan = plan_route(request(far, near))
    # A at 08:01:52 (112 s), leaves 08:11:52; B is 112 s further: 08:13:44, waits for 09:00.
    assert plan.order == ("A", "B")
    assert plan.arrivals["A"] == MONDAY + timedelta(seconds=112)
    assert plan.arrivals["B"] == MONDAY.replace(hour=9)
    assert plan.distance_m == 2224  # 2 x 1111.95 m
    assert plan.finish == MONDAY.replace(hour=9, minute=20)


def test_starting_before_the_legal_hours_waits_until_seven() -> None:
    plan = plan_route(request(Stop("A", NORTH_1), start_time=MONDAY.replace(hour=6)))
    assert plan.arrivals["A"] == MONDAY.replace(hour=7)


def test_open_path_visits_points_on_a_line_in_order() -> None:
    stops = [Stop(f"S{k}", Point(4.60 + 0.01 * k, -74.08)) for k in (3, 1, 5, 2, 4)]
    plan = plan_route(request(*stops, rules=None))
    assert plan.order == ("S1", "S2", "S3", "S4", "S5")
    assert plan.distance_m == round(5 * 1111.95)


def test_a_holiday_skips_every_stop() -> None:
    immaculate = datetime(2026, 12, 8, 8, 0, tzinfo=BOGOTA)
    plan = plan_route(request(Stop("A", NORTH_1), Stop("B", NORTH_2), start_time=immaculate))
    assert plan.order == ()
    assert reasons(plan) == {"A": HOLIDAY, "B": HOLIDAY}


def test_sunday_is_a_closed_day() -> None:
    plan = plan_route(request(Stop("A", NORTH_1), start_time=MONDAY - timedelta(days=1)))
    assert reasons(plan) == {"A": CLOSED_DAY}


def test_without_rules_a_sunday_is_plannable() -> None:
    plan = plan_route(
        request(Stop("A", NORTH_1), start_time=MONDAY - timedelta(days=1), rules=None)
    )
    assert plan.order == ("A",)


def test_each_impossible_stop_gets_its_reason() -> None:
    plan = plan_route(
        request(
            Stop("early", NORTH_1, window=(time(7), time(7, 30))),  # over before 08:00
            Stop("night", NORTH_1, window=(time(19, 30), time(21))),  # never legal
            Stop("late", NORTH_2, window=(time(18, 55), time(20)), service_minutes=10),
            Stop("ok", NORTH_2),
            end_time=MONDAY.replace(hour=18),
        )
    )
    assert plan.order == ("ok",)
    assert reasons(plan) == {
        "early": WINDOW_CLOSED,
        "night": OUTSIDE_LEGAL_HOURS,
        "late": OUTSIDE_LEGAL_HOURS,  # a 10-minute visit from 18:55 would end after 19:00
    }


def test_a_day_ending_before_it_starts_skips_everything_with_day_end() -> None:
    plan = plan_route(request(Stop("A", NORTH_1), end_time=MONDAY - timedelta(hours=1)))
    assert plan.order == () and reasons(plan) == {"A": DAY_END}


def test_a_visit_that_cannot_end_by_the_day_end_is_day_end() -> None:
    plan = plan_route(
        request(Stop("A", NORTH_1, service_minutes=30), end_time=MONDAY + timedelta(minutes=20))
    )
    assert reasons(plan) == {"A": DAY_END}


def test_after_the_legal_hours_nothing_is_left() -> None:
    plan = plan_route(request(Stop("A", NORTH_1), start_time=MONDAY.replace(hour=18, minute=59)))
    assert reasons(plan) == {"A": OUTSIDE_LEGAL_HOURS}


def test_when_only_one_fits_the_higher_priority_is_kept() -> None:
    west = Stop("west", Point(4.60, -74.10), priority=2, service_minutes=30)
    east = Stop("east", Point(4.60, -74.06), priority=5, service_minutes=30)
    plan = plan_route(request(west, east, end_time=MONDAY + timedelta(minutes=45)))
    assert plan.order == ("east",)
    assert reasons(plan) == {"west": NO_TIME}


def test_two_small_stops_beat_one_slightly_bigger() -> None:
    big = Stop("big", Point(4.60, -74.10), priority=5, service_minutes=30)
    small = [
        Stop(f"s{k}", Point(4.60, -74.06 + 0.001 * k), priority=3, service_minutes=10)
        for k in range(2)
    ]
    plan = plan_route(request(big, *small, end_time=MONDAY + timedelta(minutes=45)))
    assert set(plan.order) == {"s0", "s1"}


def test_replan_starts_from_the_position_and_drops_what_is_done() -> None:
    stops = [Stop(f"S{k}", Point(4.60 + 0.01 * k, -74.08)) for k in range(1, 5)]
    req = request(*stops)
    later = MONDAY.replace(hour=10)
    plan = replan(req, position=Point(4.64, -74.08), at=later, done=["S4", "S1"])
    assert set(plan.order) == {"S2", "S3"} and plan.skipped == ()
    assert plan.order == ("S3", "S2")
    assert plan.arrivals["S3"] == later + timedelta(seconds=112)


def test_bad_requests_are_invalid_input() -> None:
    with pytest.raises(InvalidInput) as dup:
        request(Stop("A", NORTH_1), Stop("A", NORTH_2))
    assert dup.value.code == "duplicate_stop_id"
    with pytest.raises(InvalidInput) as window:
        Stop("A", NORTH_1, window=(time(12), time(9)))
    assert window.value.code == "window_ends_before_start"
    with pytest.raises(InvalidInput) as coords:
        Stop("A", Point(95.0, -74.0))
    assert coords.value.code == "invalid_coordinates"
    with pytest.raises(InvalidInput) as speed:
        request(speed_kmh=0)
    assert speed.value.code == "invalid_speed_kmh"
    with pytest.raises(InvalidInput) as naive:
        request(start_time=datetime(2026, 11, 23, 8, 0))  # noqa: DTZ001 (the point of the test)
    assert naive.value.code == "naive_datetime"


def _brute_force(req: PlanRequest) -> tuple[float, float]:
    """(best priority sum, least length among the orders reaching it) over every ordered
    subset of the stops."""
    best = (0.0, 0.0)
    for size in range(1, len(req.stops) + 1):
        for order in itertools.permutations(req.stops, size):
            if simulate(req, list(order)) is None:
                continue
            value = (sum(s.priority for s in order), -route_length(req, list(order)))
            if value > (best[0], -best[1]):
                best = (value[0], -value[1])
    return best


@settings(max_examples=30)
@given(instances(max_stops=6))
def test_small_instances_match_brute_force(req: PlanRequest) -> None:
    plan = plan_route(req)
    check_plan(req, plan)
    priority, length = _brute_force(req)
    assert plan.total_priority == priority
    assert plan.distance_m <= round(length * (1 + 1e-9)) + 1


@settings(max_examples=40)
@given(instances(max_stops=10))
def test_every_plan_is_legal_and_consistent(req: PlanRequest) -> None:
    check_plan(req, plan_route(req))


@settings(max_examples=30)
@given(instances(max_stops=9))
def test_no_skipped_stop_could_replace_a_weaker_kept_one(req: PlanRequest) -> None:
    plan = plan_route(req)
    by_id = {s.id: s for s in req.stops}
    kept = [by_id[i] for i in plan.order]
    for skip in plan.skipped:
        if skip.reason != NO_TIME:
            continue
        stop = by_id[skip.id]
        assert simulate(req, [stop]) is not None  # no_time only for stops that fit alone
        for weaker in (k for k in kept if k.priority < stop.priority):
            rest = [k for k in kept if k is not weaker]
            for pos in range(len(rest) + 1):
                assert simulate(req, [*rest[:pos], stop, *rest[pos:]]) is None


@settings(max_examples=10)
@given(instances(max_stops=10))
def test_same_input_same_plan(req: PlanRequest) -> None:
    assert plan_route(req) == plan_route(req)


@settings(max_examples=30)
@given(instances(max_stops=10))
def test_a_phone_effort_plan_is_legal(req: PlanRequest) -> None:
    check_plan(req, plan_route(req, effort=0.1))


@settings(max_examples=40)
@given(instances(max_stops=12), st.randoms(use_true_random=False))
def test_an_insertion_updates_earliest_and_latest_starts_exactly(
    req: PlanRequest, rnd: random.Random
) -> None:
    """The planner updates the earliest and latest starts in place after each insertion (only
    as far as they change) and trusts them for every later check: they must equal a
    recomputation from scratch, wherever the stop goes."""
    problem, reasons = _build(req)
    route: list[int] = []
    early: list[int] = []
    late: list[int] = []
    nodes = [i for i in range(1, len(req.stops) + 1) if i not in reasons]
    rnd.shuffle(nodes)
    for node in nodes:
        places = [
            pos
            for pos in range(len(route) + 1)
            if problem.forward([*route[:pos], node, *route[pos:]]) is not None
        ]
        if not places:
            assert problem.best_insertion(route, early, late, node) is None
            continue
        assert problem.best_insertion(route, early, late, node) is not None
        problem.insert(route, early, late, rnd.choice(places), node)
        assert early == problem.forward(route)
        assert late == problem.backward(route)


@pytest.mark.parametrize("effort", [0, -0.5, 1.01])
def test_effort_outside_zero_to_one_is_invalid(effort: float) -> None:
    with pytest.raises(InvalidInput) as err:
        plan_route(request(Stop("A", NORTH_1)), effort=effort)
    assert err.value.code == "invalid_effort"
