"""Shared pieces of the route planner tests: instance strategies and an independent checker."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, time, timedelta, timezone

from hypothesis import strategies as st

from shared.contact_rules import allowed_windows, load_rules
from shared.geo import Point
from shared.routing import Plan, PlanRequest, Stop
from shared.routing.distance import haversine_m

BOGOTA = timezone(timedelta(hours=-5))
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=BOGOTA)  # not a holiday in Colombia
RULES = load_rules("CO")


def travel_s(request: PlanRequest, a: Point, b: Point) -> int:
    metres = haversine_m(a, b) * request.detour_factor
    return math.ceil(metres / (request.speed_kmh / 3.6))


def service_s(request: PlanRequest, stop: Stop) -> int:
    minutes = stop.service_minutes if stop.service_minutes is not None else request.service_minutes
    return round(60 * minutes)


def earliest_start(request: PlanRequest, stop: Stop, arrival: datetime) -> datetime | None:
    """The first moment at or after `arrival` a visit may start, from the rules written out
    again here (not the planner's interval code): inside the stop's window, the whole visit
    inside one legal window (half-open), ending by the end time."""
    service = timedelta(seconds=service_s(request, stop))
    day = arrival.astimezone(BOGOTA).date()
    legal = (
        allowed_windows(request.rules, day, BOGOTA)
        if request.rules is not None
        else [(arrival - timedelta(days=1), arrival + timedelta(days=30))]
    )
    for lo, hi in legal:
        start = max(arrival, lo)
        if stop.window is not None:
            opens = datetime.combine(day, stop.window[0], tzinfo=BOGOTA)
            closes = datetime.combine(day, stop.window[1], tzinfo=BOGOTA)
            start = max(start, opens)
            if start > closes:
                continue
        end = start + service
        inside = end < hi if service == timedelta(0) else end <= hi
        if not inside:
            continue
        if request.end_time is not None and end > request.end_time:
            continue
        return start
    return None


def simulate(request: PlanRequest, order: list[Stop]) -> list[datetime] | None:
    """Visit starts of an order (waiting when early), or None if some visit cannot be made."""
    at, here, starts = request.start_time, request.start, []
    for stop in order:
        start = earliest_start(
            request, stop, at + timedelta(seconds=travel_s(request, here, stop.location))
        )
        if start is None:
            return None
        starts.append(start)
        at, here = start + timedelta(seconds=service_s(request, stop)), stop.location
    return starts


def route_length(request: PlanRequest, order: list[Stop]) -> float:
    points = [request.start, *(s.location for s in order)]
    return sum(haversine_m(a, b) * request.detour_factor for a, b in itertools.pairwise(points))


def check_plan(request: PlanRequest, plan: Plan) -> None:
    """Every property a plan must have, whatever the instance."""
    by_id = {s.id: s for s in request.stops}
    kept = [by_id[i] for i in plan.order]
    assert len(set(plan.order)) == len(plan.order)
    assert set(plan.order) | {s.id for s in plan.skipped} == set(by_id)
    assert not set(plan.order) & {s.id for s in plan.skipped}
    starts = simulate(request, kept)
    assert starts is not None, "the plan breaks a window, the legal hours or the day end"
    assert [plan.arrivals[i] for i in plan.order] == starts
    assert plan.distance_m == round(route_length(request, kept))
    for skip in plan.skipped:  # a specific reason only when it cannot be visited even first
        alone = simulate(request, [by_id[skip.id]])
        assert (alone is None) == (skip.reason != "no_time"), skip


def instances(max_stops: int = 6) -> st.SearchStrategy[PlanRequest]:
    windows = st.sampled_from(
        [None, None, (time(9), time(12)), (time(14), time(17)), (time(8), time(9)),
         (time(10, 30), time(11)), (time(18), time(20)), (time(6), time(7))]
    )  # fmt: skip
    stop = st.tuples(
        st.floats(4.60, 4.66),
        st.floats(-74.10, -74.04),
        st.integers(1, 9),
        windows,
        st.sampled_from([None, 5, 20, 45]),
    )
    return st.builds(
        lambda stops, hour, hours, service: PlanRequest(
            start=Point(4.63, -74.07),
            start_time=MONDAY.replace(hour=hour),
            end_time=MONDAY.replace(hour=hour) + timedelta(hours=hours),
            speed_kmh=15,
            service_minutes=service,
            stops=tuple(
                Stop(f"C{k}", Point(lat, lon), priority=p, window=w, service_minutes=sv)
                for k, (lat, lon, p, w, sv) in enumerate(stops)
            ),
        ),
        st.lists(stop, min_size=0, max_size=max_stops),
        st.integers(6, 17),
        st.sampled_from([1, 2, 3, 5, 10]),
        st.sampled_from([10, 30]),
    )
