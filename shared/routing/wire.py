"""The route plan file of api.md ("Route plan file"): JSON in, JSON out.

Rules of this file: input is an already-parsed mapping (reading the file is the caller's job);
every problem is an `InvalidInput` with a stable code and the offending field in `details`
(`invalid_plan_request`, `missing_field`, `invalid_field`, `invalid_coordinates`,
`invalid_time`, `naive_datetime`, `invalid_window`, `window_ends_before_start`,
`duplicate_stop_id`, `invalid_priority`, `invalid_service_minutes`, `invalid_speed_kmh`,
`invalid_detour_factor`, `unknown_country`, `invalid_timezone`). Optional keys beyond api.md:
`detour_factor` (default 1.3), `country` (contact rules, default "CO"), `legal_hours` (default
true; false plans without the contact rules), `timezone` (default: the rules' zone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from shared.calendar import business_tz
from shared.contact_rules import load_rules
from shared.errors import InvalidInput
from shared.geo import Point
from shared.routing.model import DEFAULT_DETOUR, DEFAULT_SPEED_KMH, Plan, PlanRequest, Stop

_TOP_KEYS = {
    "start", "start_time", "end_time", "speed_kmh", "service_minutes", "stops",
    "detour_factor", "country", "legal_hours", "timezone",
}  # fmt: skip
_STOP_KEYS = {"id", "lat", "lon", "priority", "window", "service_minutes"}


def _bad(message: str, code: str, where: str) -> InvalidInput:
    return InvalidInput(message, code=code, details={"field": where})


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"{where}: se espera un número, no {value!r}", "invalid_field", where)
    if not math.isfinite(value):
        raise _bad(f"{where}: número no finito", "invalid_field", where)
    return float(value)


def _point(value: Any, where: str) -> Point:
    if not isinstance(value, Mapping) or "lat" not in value or "lon" not in value:
        raise _bad(f"{where}: se espera {{'lat', 'lon'}}", "invalid_coordinates", where)
    try:
        return Point(_number(value["lat"], f"{where}.lat"), _number(value["lon"], f"{where}.lon"))
    except InvalidInput as exc:
        raise _bad(exc.message, "invalid_coordinates", where) from exc


def _moment(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise _bad(f"{where}: se espera una fecha y hora ISO 8601", "invalid_time", where)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _bad(f"{where}: fecha y hora inválida {value!r}", "invalid_time", where) from exc
    if moment.tzinfo is None:
        raise _bad(f"{where}: falta la zona horaria en {value!r}", "naive_datetime", where)
    return moment


def _clock(value: Any, where: str) -> time:
    try:
        if not isinstance(value, str) or len(value) != 5:
            raise ValueError(value)
        return time.fromisoformat(value)
    except ValueError as exc:
        raise _bad(f"{where}: se espera HH:MM, no {value!r}", "invalid_window", where) from exc


def _stop(value: Any, k: int) -> Stop:
    where = f"stops[{k}]"
    if not isinstance(value, Mapping):
        raise _bad(f"{where}: se espera un objeto", "invalid_field", where)
    unknown = set(value) - _STOP_KEYS
    if unknown:
        raise _bad(f"{where}: campos desconocidos {sorted(unknown)}", "invalid_field", where)
    sid = value.get("id")
    if not isinstance(sid, str) or not sid.strip():
        raise _bad(f"{where}.id: se espera un texto no vacío", "invalid_stop_id", f"{where}.id")
    window = None
    if value.get("window") is not None:
        raw = value["window"]
        if not isinstance(raw, list | tuple) or len(raw) != 2:
            raise _bad(f"{where}.window: se espera [HH:MM, HH:MM]", "invalid_window", where)
        window = (_clock(raw[0], f"{where}.window"), _clock(raw[1], f"{where}.window"))
    service = value.get("service_minutes")
    return Stop(
        id=sid,
        location=_point(value, where),
        priority=_number(value.get("priority", 1), f"{where}.priority"),
        window=window,
        service_minutes=None if service is None else _number(service, f"{where}.service_minutes"),
    )


def parse_plan_request(data: Mapping[str, Any]) -> PlanRequest:
    """Read a route plan file (api.md) into a request; bad content raises `InvalidInput`."""
    if not isinstance(data, Mapping):
        raise _bad("se espera un objeto JSON", "invalid_plan_request", "")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _bad(f"campos desconocidos {sorted(unknown)}", "invalid_field", ",".join(unknown))
    for key in ("start", "start_time"):
        if key not in data:
            raise _bad(f"falta el campo {key!r}", "missing_field", key)
    stops = data.get("stops", [])
    if not isinstance(stops, list):
        raise _bad("stops: se espera una lista", "invalid_field", "stops")
    legal = data.get("legal_hours", True)
    if not isinstance(legal, bool):
        raise _bad("legal_hours: se espera true o false", "invalid_field", "legal_hours")
    country = data.get("country", "CO")
    rules = None
    if legal:
        try:
            rules = load_rules(str(country))
        except ValueError as exc:
            raise _bad(str(exc), "unknown_country", "country") from exc
    timezone = data.get("timezone")
    if timezone is not None and not isinstance(timezone, str):
        raise _bad("timezone: se espera un nombre IANA", "invalid_timezone", "timezone")
    if timezone is not None:
        business_tz(timezone)
    end = data.get("end_time")
    return PlanRequest(
        start=_point(data["start"], "start"),
        start_time=_moment(data["start_time"], "start_time"),
        end_time=None if end is None else _moment(end, "end_time"),
        speed_kmh=_number(data.get("speed_kmh", DEFAULT_SPEED_KMH), "speed_kmh"),
        service_minutes=_number(data.get("service_minutes", 0), "service_minutes"),
        detour_factor=_number(data.get("detour_factor", DEFAULT_DETOUR), "detour_factor"),
        stops=tuple(_stop(s, k) for k, s in enumerate(stops)),
        rules=rules,
        timezone=timezone,
    )


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan as api.md's output object (arrivals as ISO 8601 with the request's offset)."""
    return {
        "order": list(plan.order),
        "skipped": [{"id": s.id, "reason": s.reason} for s in plan.skipped],
        "distance_m": plan.distance_m,
        "arrivals": {sid: plan.arrivals[sid].isoformat() for sid in plan.order},
    }
