"""`GET /v1/reports/commissions`: commission statements for payroll (JSON, XLSX or PDF)."""

from __future__ import annotations

from datetime import date
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
from server.services import commission_exports
from server.services.access import require_office
from server.services.commission_statements import (
    CommissionReport,
    load_commission_rules,
    report,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/commissions",
    response_model=CommissionReport,
    responses={
        **file_responses(XLSX, PDF),
        403: {"description": "`insufficient_role`: supervisors and admins only"},
        404: {"description": "`collector_not_found`: no user with that username"},
        422: {"description": "`invalid_period`, `invalid_format` or a malformed date"},
    },
)
def get_commissions(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    start: Annotated[date, Query(alias="from", description="first business day, YYYY-MM-DD")],
    end: Annotated[date, Query(alias="to", description="last business day (inclusive)")],
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
    format: FormatQuery = None,
) -> CommissionReport | Response:
    """Comisiones del periodo por gestor: lo recaudado, la comisión por pago (según la edad de
    cada factura el día del pago), las anulaciones del periodo, la bonificación semanal y las
    líneas que las explican, con la versión de las reglas. `?format=xlsx` es la exportación
    para nómina; `?format=pdf`, una liquidación por gestor."""
    require_office(actor)
    fmt = choose_format(format, request.headers.get("accept"), offered=(JSON, XLSX, PDF))
    rules = load_commission_rules(settings.commission_rules_path)
    found = report(session, start, end, rules=rules, collector=collector, tz=settings.timezone)
    if fmt is ExportFormat.XLSX:
        content = commission_exports.workbook(found)
    elif fmt is ExportFormat.PDF:
        content = commission_exports.pdf(found, generated_at=clock(), tz=settings.tz)
    else:
        return found
    return file_response(content, fmt, commission_exports.file_stem(found, collector))
