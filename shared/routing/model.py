"""What the planner is asked and what it answers: stops, the request, the plan, skip reasons."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Final

from shared.calendar import require_aware
from shared.contact_rules import ContactRules, load_rules
from shared.errors import InvalidInput
from shared.geo import Point

# Why a stop is left out of the plan (stable codes; they travel in `route.planned`).
HOLIDAY: Final = "holiday"  # the plan's date is a national holiday: no contact at all
CLOSED_DAY: Final = "closed_day"  # the rules allow no contact on that weekday (Sunday)
OUTSIDE_LEGAL_HOURS: Final = "outside_legal_hours"  # its window misses the legal hours left
WINDOW_CLOSED: Final = "window_closed"  # its window closes before the collector can get there
DAY_END: Final = "day_end"  # even going there first, the visit cannot end by the day's end
NO_TIME: Final = "no_time"  # it fits alone, but the day is full of higher-priority stops
REASONS: Final = (HOLIDAY, CLOSED_DAY, OUTSIDE_LEGAL_HOURS, WINDOW_CLOSED, DAY_END, NO_TIME)

DEFAULT_SPEED_KMH: Final = 18.0  # a collector in Bogotá traffic, by motorbike or bus
DEFAULT_DETOUR: Final = 1.3  # street distance over straight-line distance in a city grid
PRIORITY_RESOLUTION: Final = 1000  # priorities are compared to 0.001


def _finite(value: float, what: str, *, minimum: float, strict: bool = False) -> float:
    number = float(value)
    low_ok = number > minimum if strict else number >= minimum
    if not math.isfinite(number) or not low_ok:
        bound = f"> {minimum}" if strict else f">= {minimum}"
        raise InvalidInput(
            f"{what} debe ser un número {bound}: {value!r}",
            code=f"invalid_{what}",
            details={"field": what},
        )
    return number


@dataclass(frozen=True)
class Stop:
    """A client to visit. `window` is local wall-clock `(open, close)` on the plan's date: the
    visit must start within it (it may run past `close`). `service_minutes` None means the
    request's default. A higher `priority` is more valuable (see `stop_priority`)."""

    id: str
    location: Point
    priority: float = 1.0
    window: tuple[time, time] | None = None
    service_minutes: float | None = None

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise InvalidInput("cada parada necesita un id", code="invalid_stop_id")
        _finite(self.priority, "priority", minimum=0.0)
        if self.service_minutes is not None:
            _finite(self.service_minutes, "service_minutes", minimum=0.0)
        if self.window is not None:
            opens, closes = self.window
            if closes <= opens:
                raise InvalidInput(
                    f"la ventana de {self.id} termina antes de empezar: "
                    f"{opens:%H:%M}-{closes:%H:%M}",
                    code="window_ends_before_start",
                    details={"id": self.id},
                )


@dataclass(frozen=True)
class PlanRequest:
    """One collector's day. `rules` are the contact rules whose hours and holidays bound every
    visit (None: ignore them, e.g. for a pure shortest path); `timezone` reads those hours and
    the stops' windows (default: the rules' zone). Without `end_time` the day ends when the
    legal hours do."""

    start: Point
    start_time: datetime
    stops: tuple[Stop, ...]
    end_time: datetime | None = None
    speed_kmh: float = DEFAULT_SPEED_KMH
    service_minutes: float = 0.0
    detour_factor: float = DEFAULT_DETOUR
    rules: ContactRules | None = field(default_factory=load_rules)
    timezone: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stops", tuple(self.stops))
        require_aware(self.start_time, "start_time")
        if self.end_time is not None:
            require_aware(self.end_time, "end_time")
        _finite(self.speed_kmh, "speed_kmh", minimum=0.0, strict=True)
        _finite(self.service_minutes, "service_minutes", minimum=0.0)
        _finite(self.detour_factor, "detour_factor", minimum=1.0)
        seen: set[str] = set()
        for stop in self.stops:
            if stop.id in seen:
                raise InvalidInput(
                    f"parada repetida: {stop.id}",
                    code="duplicate_stop_id",
                    details={"id": stop.id},
                )
            seen.add(stop.id)


@dataclass(frozen=True)
class Skip:
    id: str
    reason: str  # one of REASONS


@dataclass(frozen=True)
class Plan:
    """The chosen visits in order, when each starts, and what was left out and why.
    `distance_m` is straight-line distance times the detour factor, start to last stop."""

    order: tuple[str, ...]
    arrivals: Mapping[str, datetime]
    skipped: tuple[Skip, ...]
    distance_m: int
    finish: datetime | None = None  # when the last visit ends
    total_priority: float = 0.0
