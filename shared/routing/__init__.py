"""Route planning: the best day route for one collector, in pure Python (phone and server).

Public API (everything else in the package is internal):

- `plan_route(request: PlanRequest) -> Plan`: choose and order the day's stops. Start at
  `request.start` at `request.start_time`, open path (the day ends at the last visit); travel is
  haversine distance x `detour_factor` at `speed_kmh`; each visit takes its `service_minutes`
  (else the request's). Every visit starts inside its stop's `window` (local wall clock on the
  plan's date, the business date of `start_time`), lies wholly inside the legal contact hours of
  `request.rules` (none on Sundays and national holidays in Colombia) and ends by `end_time`.
  When not everything fits, the plan keeps the largest sum of priorities, then the least travel.
  Every stop left out is in `Plan.skipped` with a reason code (`REASONS`): `holiday`,
  `closed_day`, `outside_legal_hours`, `window_closed`, `day_end` (impossible even as the first
  stop) or `no_time` (the day is full of stops worth more). Deterministic for a given request.
  `effort` (0, 1] scales the search, never the rules: the phone plans with a tenth.
- `replan(request, position=..., at=..., done=[...]) -> Plan`: the rest of the day from where the
  collector is now, after visits, skips or delays, in one call.
- `stop_priority(...) -> float`: a client's priority from its facts (promise due today, overdue
  balance, oldest aging bucket, days since the last visit); documented in
  shared/routing/priority.py.
- `parse_plan_request(data) -> PlanRequest` and `plan_to_json(plan) -> dict`: the route plan file
  of api.md (`recaudo plan-route FILE.json`); bad content raises `InvalidInput` with a stable code.

An empty list of stops gives an empty plan; an impossible day (a holiday, an end before the
start, no legal hours left) gives an empty plan with every stop skipped and its reason.
How it works and what it measured: docs/route-planning.md.
"""

from shared.routing.model import (
    CLOSED_DAY,
    DAY_END,
    HOLIDAY,
    NO_TIME,
    OUTSIDE_LEGAL_HOURS,
    REASONS,
    WINDOW_CLOSED,
    Plan,
    PlanRequest,
    Skip,
    Stop,
)
from shared.routing.planner import plan_route, replan
from shared.routing.priority import stop_priority
from shared.routing.wire import parse_plan_request, plan_to_json

__all__ = [
    "CLOSED_DAY",
    "DAY_END",
    "HOLIDAY",
    "NO_TIME",
    "OUTSIDE_LEGAL_HOURS",
    "REASONS",
    "WINDOW_CLOSED",
    "Plan",
    "PlanRequest",
    "Skip",
    "Stop",
    "parse_plan_request",
    "plan_route",
    "plan_to_json",
    "replan",
    "stop_priority",
]
