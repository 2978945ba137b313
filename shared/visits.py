"""Visits: what counts as an effective contact, the verdict on a visit when it is received
(location, clock, legal hours), which flags send it to the supervisor, and a client's location
learned from repeated good fixes (domain.md, "Weekly visit counts" and "Contact rules").

Rules of this file:
- a visit's flags are stored as one comma-separated string in `FLAG_ORDER` ("" when none), so
  the same set of flags is always the same string and a query can tell "flagged" by equality;
- `far_from_client`, `poor_accuracy`, `clock_ahead`, `clock_behind` and `outside_legal_hours`
  make a visit *flagged*: it still counts in `visits`, is listed for the supervisor and opens a
  review item. `no_fix` and `client_location_unknown` only explain why a visit is not verified:
  a fix is often lost indoors, and a client the ledger has no coordinates for is not the
  collector's doing (the location gets learned). Neither opens a review item, or every visit
  to a new client would; a collector who never has a fix shows up as a low verified share in
  the weekly counts instead;
- outside legal hours is read on the device clock in the business timezone (the contact rules
  of the installation's country: Sundays, national holidays, hours of each weekday), for every
  outcome: a visit is an attempt to contact whoever answers the door;
- a location is learned from at least `LEARN_MIN_FIXES` fixes with accuracy at most
  `LEARN_MAX_ACCURACY_M` and no clock flag, that lie within `LEARN_MAX_SPREAD_M` of their
  component-wise median; the location is the median of those agreeing fixes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from itertools import combinations
from typing import Final

from shared import geo
from shared.contact_rules import ContactRules, Window, windows_for

# domain.md: a contact with the debtor or their representative.
EFFECTIVE_OUTCOMES: Final = frozenset({"contacted", "promise", "payment", "dispute"})

OUTSIDE_LEGAL_HOURS: Final = "outside_legal_hours"
FLAG_ORDER: Final = (
    geo.FAR_FROM_CLIENT,
    geo.POOR_ACCURACY,
    geo.CLOCK_AHEAD,
    geo.CLOCK_BEHIND,
    OUTSIDE_LEGAL_HOURS,
    geo.NO_FIX,
    geo.CLIENT_LOCATION_UNKNOWN,
)
# What the supervisor reads (es-CO; the outcomes as the phone names them).
OUTCOME_LABELS: Final = {
    "contacted": "Contactado",
    "third_party": "Atendió un tercero",
    "not_found": "No encontrado",
    "refused": "Se negó a pagar",
    "promise": "Promesa de pago",
    "payment": "Pagó",
    "dispute": "Reclamo",
    "wrong_address": "Dirección errada",
}
FLAG_LABELS: Final = {
    geo.FAR_FROM_CLIENT: "lejos del cliente",
    geo.POOR_ACCURACY: "GPS impreciso",
    geo.CLOCK_AHEAD: "reloj adelantado",
    geo.CLOCK_BEHIND: "reloj atrasado",
    OUTSIDE_LEGAL_HOURS: "fuera del horario legal",
    geo.NO_FIX: "sin GPS",
    geo.CLIENT_LOCATION_UNKNOWN: "cliente sin ubicación",
}
# The flags that make a visit suspicious (listed, counted as flagged, reviewed).
REVIEW_FLAGS: Final = frozenset(FLAG_ORDER[:5])
# The flags that only say why a visit is unverified.
NOTE_FLAGS: Final = frozenset(FLAG_ORDER[5:])
CLOCK_FLAGS: Final = frozenset({geo.CLOCK_AHEAD, geo.CLOCK_BEHIND})
# A fix sent without its accuracy: the worst the protocol allows, so it is never credited.
UNKNOWN_ACCURACY_M: Final = 1_000_000.0


def join_flags(flags: Iterable[str]) -> str:
    """The stored form: known flags in `FLAG_ORDER`, comma-separated, each once."""
    present = set(flags)
    unknown = present - set(FLAG_ORDER)
    if unknown:
        raise ValueError(f"unknown visit flags: {sorted(unknown)}")
    return ",".join(f for f in FLAG_ORDER if f in present)


def split_flags(stored: str) -> tuple[str, ...]:
    return tuple(f for f in stored.split(",") if f)


def is_flagged(flags: Iterable[str]) -> bool:
    return not REVIEW_FLAGS.isdisjoint(flags)


def unflagged_forms() -> tuple[str, ...]:
    """Every stored string of a visit that is not flagged ("" and the note flags alone): a query
    tells a flagged visit by `flags NOT IN unflagged_forms()`."""
    notes = [f for f in FLAG_ORDER if f in NOTE_FLAGS]
    return tuple(
        ",".join(combo) for size in range(len(notes) + 1) for combo in combinations(notes, size)
    )


@dataclass(frozen=True)
class VisitVerdict:
    verified: bool
    distance_m: float | None
    flags: tuple[str, ...]  # in FLAG_ORDER

    @property
    def stored_flags(self) -> str:
        return ",".join(self.flags)

    @property
    def flagged(self) -> bool:
        return is_flagged(self.flags)

    @property
    def review_reason(self) -> str | None:
        """The reason of the review item a flagged visit opens: its first suspicious flag."""
        return next((f for f in self.flags if f in REVIEW_FLAGS), None)


# WGS-84, for `near_m`.
_A: Final = 6378137.0
_E2: Final = 0.00669437999014
NEAR_M: Final = 10_000.0


def near_m(a: geo.Point, b: geo.Point) -> float:
    """The distance in metres, on the push path: under `NEAR_M` from the ellipsoid's local radii
    of curvature at the mean latitude (within a millimetre of the geodesic at these scales, about
    a hundred times cheaper: a chunk checks up to 200 visits), else `geo.distance_m`."""
    phi = math.radians((a.lat + b.lat) / 2)
    w = 1 - _E2 * math.sin(phi) ** 2
    meridian = _A * (1 - _E2) / (w * math.sqrt(w))
    normal = _A / math.sqrt(w)
    dlon = (b.lon - a.lon + 540.0) % 360.0 - 180.0
    local = math.hypot(
        meridian * math.radians(b.lat - a.lat), normal * math.cos(phi) * math.radians(dlon)
    )
    return local if local < NEAR_M else geo.distance_m(a, b)


def fix_of(lat: float | None, lon: float | None, accuracy_m: float | None) -> geo.Fix | None:
    """A fix from a visit's payload; no coordinates is no fix, and a fix without a reported
    accuracy is taken as poor (it cannot be credited)."""
    if lat is None or lon is None:
        return None
    return geo.Fix(geo.Point(lat, lon), UNKNOWN_ACCURACY_M if accuracy_m is None else accuracy_m)


def outside_legal_hours(rules: ContactRules, at: datetime, tz: tzinfo) -> bool:
    """`shared.contact_rules.time_violation(rules, at, tz) is not None`, read on the windows."""
    local = at.astimezone(tz)
    moment = local.time()
    return not any(w.start <= moment < w.end for w in windows_for(rules, local.date()))


class LegalHours:
    """`outside_legal_hours` for many visits: each day's windows (its weekday's, none on a
    holiday) looked up once. One per push chunk."""

    def __init__(self, rules: ContactRules, tz: tzinfo) -> None:
        self.rules = rules
        self.tz = tz
        self._days: dict[date, tuple[Window, ...]] = {}

    def outside(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        day = local.date()
        windows = self._days.get(day)
        if windows is None:
            windows = self._days[day] = windows_for(self.rules, day)
        moment = local.time()
        return not any(w.start <= moment < w.end for w in windows)


def verify_visit(
    fix: geo.Fix | None,
    client_location: geo.Point | None,
    *,
    device_time: datetime,
    received_at: datetime,
    hours: LegalHours,
) -> VisitVerdict:
    """Location and clock (shared.geo.check_visit) plus the legal contact hours."""
    check = geo.check_visit(
        fix, client_location, device_time=device_time, received_at=received_at, measure=near_m
    )
    flags = set(check.flags)
    if hours.outside(device_time):
        flags.add(OUTSIDE_LEGAL_HOURS)
    ordered = tuple(f for f in FLAG_ORDER if f in flags)
    return VisitVerdict(check.verified, check.distance_m, ordered)


# --- learned client locations ------------------------------------------------------------------

LEARN_MIN_FIXES: Final = 3
LEARN_MAX_ACCURACY_M: Final = 50.0
LEARN_MAX_SPREAD_M: Final = 100.0


def good_for_learning(fix: geo.Fix | None, flags: Iterable[str]) -> bool:
    """Whether a visit's fix may teach where its client is."""
    return (
        fix is not None and fix.accuracy_m <= LEARN_MAX_ACCURACY_M and CLOCK_FLAGS.isdisjoint(flags)
    )


def learned_location(points: Sequence[geo.Point]) -> geo.Point | None:
    """Where the client is, from good fixes of visits to them, or None while they disagree or
    are too few: the median of the fixes that lie within `LEARN_MAX_SPREAD_M` of the median of
    all, when at least `LEARN_MIN_FIXES` do."""
    if len(points) < LEARN_MIN_FIXES:
        return None
    center = _median(points)
    near = [p for p in points if near_m(p, center) <= LEARN_MAX_SPREAD_M]
    if len(near) < LEARN_MIN_FIXES:
        return None
    return _median(near)


def _median(points: Sequence[geo.Point]) -> geo.Point:
    return geo.Point(_middle([p.lat for p in points]), _middle([p.lon for p in points]))


def _middle(values: list[float]) -> float:
    """statistics.median, without its generality (this runs per visit on the push path)."""
    values.sort()
    half = len(values) // 2
    return values[half] if len(values) % 2 else (values[half - 1] + values[half]) / 2
