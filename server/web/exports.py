"""The reports a person downloads (XLSX to work on, PDF to print), served to the page's session:
the same services and files as the API's `?format=` answers."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from server.services import visit_counts, visit_exports
from server.web.deps import ClockDep, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import IsoWeek, business_date

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
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
