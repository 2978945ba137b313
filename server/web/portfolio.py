"""Portfolio segmentation for the supervisor: the same views as `/v1/reports/segmentation` (by
client type, agreement, aging bucket, status) as tabs, each with its XLSX download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from server.services import segmentation
from server.services.segmentation import BY_NAMES, By
from server.web.deps import ClockDep, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import business_date

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(
    actor: PageActor, session: SessionDep, settings: SettingsDep, clock: ClockDep, by: By
) -> segmentation.SegmentationReport:
    report = segmentation.segmentation(
        session,
        actor,
        by=by,
        today=business_date(clock(), settings.tz),
        tz=settings.tz,
        edges=settings.aging_edges,
    )
    session.commit()
    return report


@router.get("/portfolio")
def portfolio_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    by: Annotated[By, Query()] = "segment",
) -> Response:
    report = _report(actor, session, settings, clock, by)
    return render(request, "portfolio.html", {"r": report, "views": BY_NAMES}, actor=actor)


@router.get("/portfolio.xlsx")
def portfolio_file(
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    by: Annotated[By, Query()] = "segment",
) -> Response:
    report = _report(actor, session, settings, clock, by)
    name = f"segmentacion_{by}_{report.as_of.isoformat()}.xlsx"
    return Response(
        segmentation.segmentation_workbook(report),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
