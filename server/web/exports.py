"""The reports a person downloads (XLSX to work on, PDF to print), served to the page's session:
the same services and files as the API's `?format=` answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from server.services import (
    commission_exports,
    commission_statements,
    kpi_exports,
    kpis,
    visit_counts,
    visit_exports,
    weekly_management,
)
from server.services.download_names import attachment
from server.web.deps import ClockDep, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import IsoWeek, business_date
from shared.clients import IsoDate

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": attachment(filename)},
    )


@router.get("/exports")
def exports_page(
    request: Request, actor: PageActor, settings: SettingsDep, clock: ClockDep
) -> Response:
    today = business_date(clock(), settings.tz)
    closed = IsoWeek.of(today).shift(-1)
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return render(
        request,
        "exports.html",
        {
            "closed": closed,
            "current": IsoWeek.of(today),
            "today": today,
            "month_start": month_start,
            "last_month_start": last_month_end.replace(day=1),
            "last_month_end": last_month_end,
        },
        actor=actor,
    )


@router.get("/exports/weekly-visits.xlsx")
def weekly_visits_file(
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    week: str | None = None,
) -> Response:
    chosen = IsoWeek.parse(week) if week else IsoWeek.of(business_date(clock(), settings.tz))
    report = visit_counts.weekly_visits(session, chosen, timezone=settings.timezone)
    flagged = visit_counts.flagged_visits(session, chosen.monday, chosen.sunday)
    session.commit()
    content = visit_exports.weekly_visits_workbook(report, flagged, settings.tz)
    return download(content, XLSX, f"visitas_{chosen.label}.xlsx")


PDF = "application/pdf"


@router.get("/exports/weekly-management.{fmt}")
def weekly_management_file(
    fmt: Literal["xlsx", "pdf"],
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    week: str | None = None,
) -> Response:
    """The weekly management report; the week just closed by default."""
    now = clock()
    chosen = IsoWeek.parse(week) if week else IsoWeek.of(business_date(now, settings.tz)).shift(-1)
    report = weekly_management.weekly_management_report(
        session, actor, week=chosen, now=now, tz=settings.tz, timezone=settings.timezone
    )
    session.commit()
    stem = f"informe_gestion_{chosen.label}"
    if fmt == "pdf":
        pdf = kpi_exports.weekly_pdf(
            report, generated_at=now, tz=settings.tz, locale=settings.locale
        )
        return download(pdf, PDF, f"{stem}.pdf")
    return download(kpi_exports.weekly_workbook(report), XLSX, f"{stem}.xlsx")


@router.get("/exports/kpis.xlsx")
def kpis_file(
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    start: Annotated[IsoDate, Query(alias="from")],
    end: Annotated[IsoDate, Query(alias="to")],
) -> Response:
    report = kpis.kpi_report(
        session,
        actor,
        start=start,
        end=end,
        now=clock(),
        tz=settings.tz,
        timezone=settings.timezone,
    )
    session.commit()
    return download(
        kpi_exports.kpi_workbook(report), XLSX, f"kpis_{start.isoformat()}_{end.isoformat()}.xlsx"
    )


@router.get("/exports/commissions.{fmt}")
def commissions_file(
    fmt: Literal["xlsx", "pdf"],
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    start: Annotated[IsoDate, Query(alias="from")],
    end: Annotated[IsoDate, Query(alias="to")],
) -> Response:
    """The payroll export (XLSX) or the collectors' commission statements (PDF)."""
    rules = commission_statements.load_commission_rules(settings.commission_rules_path)
    found = commission_statements.report(session, start, end, rules=rules, tz=settings.timezone)
    session.commit()
    stem = commission_exports.file_stem(found)
    if fmt == "pdf":
        pdf = commission_exports.pdf(found, generated_at=clock(), tz=settings.tz)
        return download(pdf, PDF, f"{stem}.pdf")
    return download(commission_exports.workbook(found), XLSX, f"{stem}.xlsx")
