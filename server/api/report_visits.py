"""Visit reports (`/v1/reports/weekly-visits`, `/v1/reports/flagged-visits`), as JSON or XLSX."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.api.formats import (
    JSON,
    XLSX,
    ExportFormat,
    FormatQuery,
    choose_format,
    file_response,
    file_responses,
)
from server.services import visit_counts, visit_exports
from server.services.access import require_office
from server.services.visit_counts import FlaggedVisit, WeeklyVisits
from shared.calendar import IsoWeek, business_date
from shared.clients import IsoDate
from shared.errors import InvalidInput

router = APIRouter(prefix="/v1/reports", tags=["reports"])

_ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "`insufficient_role`: supervisors and admins only"},
    422: {"description": "`invalid_week`, `invalid_period`, `invalid_format`, `invalid_input`"},
}
MAX_FLAGGED_DAYS = 92


@router.get(
    "/weekly-visits",
    response_model=WeeklyVisits,
    responses={**_ERRORS, **file_responses(XLSX)},
)
def get_weekly_visits(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    week: Annotated[
        str | None,
        Query(max_length=8, description="YYYY-Www (ISO week); the current week by default"),
    ] = None,
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
    fmt: FormatQuery = None,
) -> WeeklyVisits | Response:
    """Per collector, the ISO week's visits, effective contacts (contacted, promise, payment,
    dispute), verified visits (GPS within the radius of the client's location), distinct
    clients visited and flagged visits (far, poor GPS, clock, outside legal hours; they still
    count as visits). A visit's week is its device time's day in the business timezone.
    `?format=xlsx` adds a sheet with the week's flagged visits."""
    require_office(actor)
    wanted = choose_format(fmt, request.headers.get("accept"), offered=(JSON, XLSX))
    chosen = IsoWeek.parse(week) if week else IsoWeek.of(business_date(clock(), settings.tz))
    collector_id = visit_counts.collector_id(session, collector) if collector else None
    report = visit_counts.weekly_visits(
        session, chosen, collector=collector, timezone=settings.timezone
    )
    if wanted is ExportFormat.XLSX:
        flagged = visit_counts.flagged_visits(session, chosen.monday, chosen.sunday, collector_id)
        content = visit_exports.weekly_visits_workbook(report, flagged, settings.tz)
        return file_response(content, wanted, f"visitas_{chosen.label}")
    return report


@router.get("/flagged-visits", responses=_ERRORS)
def get_flagged_visits(
    session: SessionDep,
    actor: ActorDep,
    start: Annotated[IsoDate, Query(alias="from", description="first business date, YYYY-MM-DD")],
    end: Annotated[IsoDate, Query(alias="to", description="last business date (inclusive)")],
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
) -> list[FlaggedVisit]:
    """The flagged visits of a period (at most 92 days), oldest first, with the client, the
    distance to its location, the fix's accuracy and the flags."""
    require_office(actor)
    if end < start or (end - start).days >= MAX_FLAGGED_DAYS:
        raise InvalidInput(
            f"the period must run forward and span at most {MAX_FLAGGED_DAYS} days",
            code="invalid_period",
        )
    collector_id = visit_counts.collector_id(session, collector) if collector else None
    return visit_counts.flagged_visits(session, start, end, collector_id)
