"""KPI reports (`/v1/reports/kpis`) and the weekly management report
(`/v1/reports/weekly-management`), as JSON or as files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.api.formats import (
    JSON,
    PDF,
    XLSX,
    ExportFormat,
    FormatQuery,
    choose_format,
    file_response,
    file_responses,
)
from server.services import kpi_exports, kpis, weekly_management
from server.services.weekly_management import WeeklyManagementReport
from shared.calendar import IsoWeek, business_date
from shared.clients import IsoDate, Segment
from shared.kpis import KpiReport

router = APIRouter(prefix="/v1/reports", tags=["reports"])

_ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "`insufficient_role`: supervisors and admins only"},
    422: {"description": "`invalid_input`, `invalid_period`, `invalid_week`, `invalid_format`"},
}


@router.get(
    "/kpis",
    response_model=KpiReport,
    responses={**_ERRORS, **file_responses(XLSX)},
)
def get_kpis(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    start: Annotated[IsoDate, Query(alias="from", description="first business date, YYYY-MM-DD")],
    end: Annotated[IsoDate, Query(alias="to", description="last business date (inclusive)")],
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
    segment: Segment | None = None,
    fmt: FormatQuery = None,
) -> KpiReport | Response:
    """KPIs of the period by collector, team and segment: recovery % of the overdue portfolio,
    average recovery time, visits and effective contacts per week, verified share, promises
    made / kept / partial / broken and kept rate, cases sent to legal (cobro jurídico), closed
    and % positive, and the risky clients with their reasons."""
    wanted = choose_format(fmt, request.headers.get("accept"), offered=(JSON, XLSX))
    report = kpis.kpi_report(
        session,
        actor,
        start=start,
        end=end,
        now=clock(),
        tz=settings.tz,
        timezone=settings.timezone,
        collector=collector,
        segment=segment,
    )
    if wanted is ExportFormat.XLSX:
        return file_response(
            kpi_exports.kpi_workbook(report), wanted, f"kpis_{start.isoformat()}_{end.isoformat()}"
        )
    return report


@router.get(
    "/weekly-management",
    response_model=WeeklyManagementReport,
    responses={**_ERRORS, **file_responses(XLSX, PDF)},
)
def get_weekly_management(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    week: Annotated[
        str | None,
        Query(max_length=8, description="YYYY-Www; the last complete ISO week by default"),
    ] = None,
    fmt: FormatQuery = None,
) -> WeeklyManagementReport | Response:
    """The weekly management report: counts per collector, collections, promises, KPIs, flagged
    visits and the top risky clients of an ISO week, with a chart in the XLSX and PDF files."""
    wanted = choose_format(fmt, request.headers.get("accept"), offered=(JSON, XLSX, PDF))
    now = clock()
    chosen = IsoWeek.parse(week) if week else IsoWeek.of(business_date(now, settings.tz)).shift(-1)
    report = weekly_management.weekly_management_report(
        session, actor, week=chosen, now=now, tz=settings.tz, timezone=settings.timezone
    )
    stem = f"informe_gestion_{chosen.label}"
    if wanted is ExportFormat.XLSX:
        return file_response(kpi_exports.weekly_workbook(report), wanted, stem)
    if wanted is ExportFormat.PDF:
        pdf = kpi_exports.weekly_pdf(
            report, generated_at=now, tz=settings.tz, locale=settings.locale
        )
        return file_response(pdf, wanted, stem)
    return report
