"""Portfolio segmentation (`/v1/reports/segmentation`), as JSON or XLSX."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.api.formats import JSON, XLSX, ExportFormat, FormatQuery, choose_format, file_response
from server.api.formats import file_responses as file_types
from server.services import segmentation
from server.services.segmentation import By, SegmentationReport
from shared.calendar import business_date

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/segmentation",
    response_model=SegmentationReport,
    responses={
        403: {"description": "`insufficient_role`: supervisors and admins only"},
        422: {"description": "`invalid_input`, `invalid_format`, `unknown_collector`"},
        **file_types(XLSX),
    },
)
def get_segmentation(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    by: By = "segment",
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
    fmt: FormatQuery = None,
) -> SegmentationReport | Response:
    """Today's portfolio grouped `by` client type (`segment`), payment agreement (`agreement`:
    broken / active / proposed / none), aging bucket of the oldest invoice owing (`bucket`) or
    status (`status`: legal / active / closed): per group the client count, balance, overdue
    balance and the amount in open glosas. Every group is listed, empty ones too."""
    wanted = choose_format(fmt, request.headers.get("accept"), offered=(JSON, XLSX))
    today = business_date(clock(), settings.tz)
    report = segmentation.segmentation(
        session,
        actor,
        by=by,
        today=today,
        tz=settings.tz,
        edges=settings.aging_edges,
        collector=collector,
    )
    if wanted is ExportFormat.XLSX:
        body = segmentation.segmentation_workbook(report)
        return file_response(body, wanted, f"segmentacion_{by}_{today.isoformat()}")
    return report
