"""Where a visit happened: distance to the client, the verification radius, suspicious flags
(domain.md, "Weekly visit counts").

Rules of this file:
- distances are geodesic on WGS-84 (geopy), in metres; coordinates are floats (not money);
- a visit is verified when its GPS fix lies within the radius of the client's known location;
  the radius is 150 m plus the fix's reported accuracy, capped at 250 m (so at most 100 m of
  accuracy is credited), and a fix worse than 100 m never verifies: it could be anywhere;
- flags, listed for the supervisor; a flagged visit still counts in `visits`:
  `far_from_client` (fix outside the radius), `poor_accuracy` (accuracy > 100 m),
  `clock_ahead` (device time > 15 min after the server received it), `clock_behind` (device time
  > 14 days before), `no_fix` (no GPS fix), `client_location_unknown` (nothing to compare with).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from geopy.distance import geodesic

from shared.calendar import require_aware
from shared.errors import InvalidInput

BASE_RADIUS_M: Final = 150.0
MAX_RADIUS_M: Final = 250.0
POOR_ACCURACY_M: Final = 100.0
MAX_CLOCK_AHEAD: Final = timedelta(minutes=15)
MAX_CLOCK_BEHIND: Final = timedelta(days=14)

FAR_FROM_CLIENT: Final = "far_from_client"
POOR_ACCURACY: Final = "poor_accuracy"
CLOCK_AHEAD: Final = "clock_ahead"
CLOCK_BEHIND: Final = "clock_behind"
NO_FIX: Final = "no_fix"
CLIENT_LOCATION_UNKNOWN: Final = "client_location_unknown"


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (
            math.isfinite(self.lat)
            and math.isfinite(self.lon)
            and -90 <= self.lat <= 90
            and -180 <= self.lon <= 180
        ):
            raise InvalidInput(
                f"coordenadas inválidas: {self.lat}, {self.lon}", code="invalid_coordinates"
            )


@dataclass(frozen=True)
class Fix:
    """A GPS reading: where, and the radius (metres, ~68 % confidence) it is good to."""

    point: Point
    accuracy_m: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.accuracy_m) or self.accuracy_m < 0:
            raise InvalidInput(f"precisión inválida: {self.accuracy_m}", code="invalid_accuracy")


@dataclass(frozen=True)
class VisitCheck:
    verified: bool
    distance_m: float | None  # None without a fix or a client location
    radius_m: float | None
    flags: tuple[str, ...]  # in the order listed in the module rules

    @property
    def suspicious(self) -> bool:
        return bool(self.flags)


def distance_m(a: Point, b: Point) -> float:
    """Geodesic distance in metres."""
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters)


def verification_radius_m(
    accuracy_m: float, base_m: float = BASE_RADIUS_M, max_m: float = MAX_RADIUS_M
) -> float:
    """`base_m` plus the fix's accuracy, capped at `max_m`."""
    return min(base_m + max(accuracy_m, 0.0), max_m)


def clock_flags(device_time: datetime, received_at: datetime) -> tuple[str, ...]:
    """`clock_ahead` / `clock_behind` when the device clock is implausible against the server's
    receive time (device times are data, never order: sync-protocol.md)."""
    skew = require_aware(device_time, "device_time") - require_aware(received_at, "received_at")
    if skew > MAX_CLOCK_AHEAD:
        return (CLOCK_AHEAD,)
    if -skew > MAX_CLOCK_BEHIND:
        return (CLOCK_BEHIND,)
    return ()


def check_visit(
    fix: Fix | None,
    client_location: Point | None,
    *,
    device_time: datetime,
    received_at: datetime,
    base_radius_m: float = BASE_RADIUS_M,
    max_radius_m: float = MAX_RADIUS_M,
    poor_accuracy_m: float = POOR_ACCURACY_M,
    measure: Callable[[Point, Point], float] = distance_m,
) -> VisitCheck:
    """Verify a visit's location and list its flags (see the module rules). `measure` lets a
    hot path pass a cheaper function that agrees with `distance_m` at these scales."""
    flags: list[str] = []
    distance: float | None = None
    radius: float | None = None
    within = False
    if fix is not None and client_location is not None:
        distance = measure(fix.point, client_location)
        radius = verification_radius_m(fix.accuracy_m, base_radius_m, max_radius_m)
        within = distance <= radius
        if not within:
            flags.append(FAR_FROM_CLIENT)
    poor = fix is not None and fix.accuracy_m > poor_accuracy_m
    if poor:
        flags.append(POOR_ACCURACY)
    flags.extend(clock_flags(device_time, received_at))
    if fix is None:
        flags.append(NO_FIX)
    if client_location is None:
        flags.append(CLIENT_LOCATION_UNKNOWN)
    return VisitCheck(within and not poor, distance, radius, tuple(flags))
