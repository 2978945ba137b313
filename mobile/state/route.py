"""The day route on the phone, as plain values: which clients are today's candidate stops, the
planner's request from where the collector is, and Hoy's rows in the planned order.

Candidates are the active clients with something to collect (a balance above zero or a promise
due today) not visited yet today, each with its priority (`ClientRow.priority`, from
`shared.routing.stop_priority`). A client without coordinates cannot be routed: it is left out
with the phone's own reason `no_location`, and a client in cobro jurídico (referred to a law
firm) with `legal` (the planner's reasons are in shared/routing/model.py).
The planner itself (shared/routing) respects the legal contact hours and holidays of the contact
rules and the end of the working day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Final

from mobile.services.routes import StoredPlan
from mobile.state.clients import ClientRow
from shared.calendar import business_date, business_tz
from shared.contact_rules import ContactRules
from shared.geo import Point
from shared.routing import Plan, PlanRequest, Stop, plan_route

log = logging.getLogger(__name__)

NO_LOCATION: Final = "no_location"
# Referred to a law firm (cobro jurídico): the lawyer collects, so the collector's route leaves
# the client out with this reason (Hoy still lists it, marked, for a payment it brings in).
LEGAL: Final = "legal"
DEFAULT_DAY_END: Final = time(18, 0)
DEFAULT_SERVICE_MINUTES: Final = 15.0
# The planner's improvement rounds (ruin and recreate), scaled down for a phone. Measured on the
# five demo portfolios (57-63 clients) planned at 08:00, 11:00 and 14:00
# (tests/mobile/measure_route_plan.py, docs/phone-app.md): a tenth of the rounds takes 58-131 ms
# of CPU instead of 130-400 ms; it kept the same total priority in 6 of 15 cases and at worst
# 5.5 % less (one stop fewer in two cases) in the others. Every plan stays legal: effort bounds
# the search only, feasibility is checked on every insertion. RECAUDO_MOBILE_ROUTE_EFFORT=1
# gives the server's full search on faster phones.
PHONE_EFFORT: Final = 0.1

Planner = Callable[[PlanRequest], Plan]


def planner_with(effort: float) -> Planner:
    def plan(request: PlanRequest) -> Plan:
        return plan_route(request, effort=effort)

    return plan


phone_planner = planner_with(PHONE_EFFORT)


@dataclass(frozen=True)
class DayPlan:
    """A plan computed for today, ready to be stored (mobile.services.routes)."""

    plan: Plan
    skipped: tuple[tuple[str, str], ...]  # the planner's and the phone's, highest priority first
    start: Point
    at: datetime


def candidates(
    rows: Iterable[ClientRow], records_located: Callable[[str], Point | None]
) -> tuple[list[Stop], list[tuple[str, str]]]:
    """Today's stops for the planner, and the candidates it cannot or must not route (no
    coordinates; in cobro jurídico)."""
    stops: list[Stop] = []
    unrouted: list[tuple[str, str]] = []
    for row in rows:
        if row.status != "active" or row.visited_today:
            continue
        if row.balance <= 0 and row.promise_due_today is None:
            continue
        if row.legal:
            unrouted.append((row.id, LEGAL))
            continue
        point = records_located(row.id)
        if point is None:
            unrouted.append((row.id, NO_LOCATION))
            continue
        stops.append(Stop(id=row.id, location=point, priority=row.priority))
    return stops, unrouted


def plan_day(
    rows: Sequence[ClientRow],
    locate: Callable[[str], Point | None],
    *,
    start: Point,
    now: datetime,
    tz: str,
    rules: ContactRules | None,
    day_end: time = DEFAULT_DAY_END,
    service_minutes: float = DEFAULT_SERVICE_MINUTES,
    planner: Planner = phone_planner,
) -> DayPlan:
    """Plan the rest of today from `start` at `now`: visits already made today are done (the
    same call re-plans after visits, skips or delays)."""
    stops, unrouted = candidates(rows, locate)
    zone = business_tz(tz)
    end = datetime.combine(business_date(now, zone), day_end, tzinfo=zone)
    request = PlanRequest(
        start=start,
        start_time=now,
        stops=tuple(stops),
        end_time=max(end, now),
        service_minutes=service_minutes,
        rules=rules,
        timezone=tz,
    )
    plan = planner(request)
    if len(set(plan.order)) != len(plan.order):
        # Seen once in ~50 plans of a demo portfolio (shared/routing, reported): a stop listed
        # twice. The collector visits a client once: keep its first place.
        log.warning("the planner listed a stop twice; keeping the first place")
        plan = replace(plan, order=tuple(dict.fromkeys(plan.order)))
    skipped = tuple((s.id, s.reason) for s in plan.skipped) + tuple(unrouted)
    return DayPlan(plan=plan, skipped=skipped, start=start, at=now)


def planned_rows(rows: Sequence[ClientRow], stored: StoredPlan | None) -> list[ClientRow]:
    """Hoy in the planned order: the route's stops numbered with their expected start, then the
    stops left out with their reason (by priority), then every other client (visited today,
    nothing to collect, closed), by priority. Without a plan: the rows as given."""
    if stored is None:
        return list(rows)
    by_id = {row.id: row for row in rows}
    out: list[ClientRow] = []
    placed: set[str] = set()
    for number, client_id in enumerate(stored.order, start=1):
        row = by_id.get(client_id)
        if row is None:  # reassigned since the plan was made
            continue
        out.append(replace(row, stop_no=number, eta=stored.arrivals.get(client_id)))
        placed.add(client_id)
    reasons = dict(stored.skipped)
    left_out = [row for row in rows if row.id in reasons and row.id not in placed]
    out += [replace(row, skip_reason=reasons[row.id]) for row in left_out]
    placed.update(row.id for row in left_out)
    out += [row for row in rows if row.id not in placed]
    return out


def route_points(
    stored: StoredPlan | None, locate: Callable[[str], Point | None]
) -> list[tuple[int, str, Point]]:
    """(number, client id, where) of each planned stop that still has coordinates."""
    if stored is None:
        return []
    points = []
    for number, client_id in enumerate(stored.order, start=1):
        point = locate(client_id)
        if point is not None:
            points.append((number, client_id, point))
    return points
