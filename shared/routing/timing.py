"""When each stop may be visited, in whole seconds after the request's start time.

Rules of this file: a stop's feasible *start* times are a sorted list of closed intervals
`(earliest, latest)`: the intersection of its own window (the visit starts inside it), the legal
contact windows of the plan's date with the whole visit inside them (they are half-open, so a
visit ends at 19:00 at the latest), and the end of the day (the visit ends by `end_time`). Travel
times are rounded up to whole seconds, so every check is exact integer arithmetic. A stop that
cannot be visited even as the first stop of the day gets its reason code here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Final

from shared.calendar import business_date, business_tz
from shared.contact_rules import allowed_windows, holiday_name
from shared.routing.model import (
    CLOSED_DAY,
    DAY_END,
    HOLIDAY,
    OUTSIDE_LEGAL_HOURS,
    WINDOW_CLOSED,
    PlanRequest,
)

Interval = tuple[int, int]
NEVER: Final = 10**12  # seconds: "no bound"


@dataclass(frozen=True)
class DayFrame:
    """The day a request plans, on the business clock."""

    tz: tzinfo
    day: date
    legal: tuple[Interval, ...] | None  # contact windows as offsets from start; None = no rules
    end: int  # latest end of any visit (offset), NEVER when unbounded
    closed_reason: str | None  # HOLIDAY / CLOSED_DAY when the rules allow no contact that date


def _offset(moment: datetime, origin: datetime, *, up: bool) -> int:
    seconds = (moment - origin).total_seconds()
    return math.ceil(seconds) if up else math.floor(seconds)


def day_frame(request: PlanRequest) -> DayFrame:
    rules = request.rules
    zone_name = request.timezone or (rules.timezone if rules is not None else None)
    tz = business_tz(zone_name) if zone_name else business_tz()
    day = business_date(request.start_time, tz)
    origin = request.start_time
    end = NEVER if request.end_time is None else _offset(request.end_time, origin, up=False)
    if rules is None:
        return DayFrame(tz, day, None, end, None)
    windows = allowed_windows(rules, day, tz)
    closed = None
    if not windows:
        closed = HOLIDAY if holiday_name(rules, day) is not None else CLOSED_DAY
    legal = tuple((_offset(a, origin, up=True), _offset(b, origin, up=False)) for a, b in windows)
    return DayFrame(tz, day, legal, end, closed)


def _intersect(xs: Sequence[Interval], ys: Sequence[Interval]) -> list[Interval]:
    out = []
    for a1, b1 in xs:
        for a2, b2 in ys:
            a, b = max(a1, a2), min(b1, b2)
            if a <= b:
                out.append((a, b))
    return sorted(out)


@dataclass(frozen=True)
class StopTimes:
    windows: tuple[Interval, ...]  # feasible start intervals; empty: never
    reason: str | None  # why it cannot be visited even first, else None


def stop_times(
    frame: DayFrame,
    origin: datetime,
    window: tuple[datetime, datetime] | None,
    service_s: int,
    direct_s: int,
) -> StopTimes:
    """Feasible start intervals of one stop, and the reason it is impossible when it is
    (`direct_s` is the travel time from the start point straight to it)."""
    if frame.closed_reason is not None:
        return StopTimes((), frame.closed_reason)
    own: list[Interval] = [(-NEVER, NEVER)]
    if window is not None:
        own = [(_offset(window[0], origin, up=True), _offset(window[1], origin, up=False))]
    if frame.legal is not None:
        legal = [(a, b - max(service_s, 1)) for a, b in frame.legal if b - max(service_s, 1) >= a]
        lawful = _intersect(own, legal)
        if not lawful:
            return StopTimes((), OUTSIDE_LEGAL_HOURS)
    else:
        lawful = own
    ends = [(-NEVER, frame.end - service_s)]
    feasible = tuple(_intersect(lawful, ends))
    if any(b >= direct_s for _, b in feasible):
        return StopTimes(feasible, None)
    # impossible even as the first stop: say which bound closed it
    if any(b >= direct_s for _, b in lawful):
        return StopTimes((), DAY_END)
    if window is not None and own[0][1] < direct_s:
        return StopTimes((), WINDOW_CLOSED)
    return StopTimes((), OUTSIDE_LEGAL_HOURS)
