"""Reconciliations with clients (`/v1/reconciliations`, `/v1/clients/{client_id}/reconciliations`):
schedule one, the agenda of upcoming ones, record one (balances, differences, notes applied) and
its export as JSON, PDF or XLSX. Office only."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.api.formats import (
    JSON,
    PDF,
    XLSX,
    FormatQuery,
    choose_format,
    file_response,
    file_responses,
)
from server.services import reconciliations
from server.services.reconciliation_exports import export_file
from server.services.reconciliations import ItemIn, NoteIn, ReconciliationOut, ReconciliationPage
from shared.calendar import business_date
from shared.clients import IsoDate, MoneyStr

router = APIRouter(tags=["reconciliations"])

_OFFICE: dict[int | str, dict[str, Any]] = {
    403: {"description": "`insufficient_role`: supervisors and admins only"},
}
_ONE: dict[int | str, dict[str, Any]] = {
    **_OFFICE,
    404: {"description": "`reconciliation_not_found`"},
}


class ScheduleIn(BaseModel):
    scheduled_for: IsoDate
    notes: Annotated[str, Field(max_length=reconciliations.MAX_TEXT)] = ""


class CompleteIn(BaseModel):
    as_of: IsoDate = Field(description="the date both statements are compared at")
    client_balance: MoneyStr = Field(description="the balance on the client's statement")
    statement_ref: Annotated[str, Field(max_length=200)] = ""
    items: Annotated[list[ItemIn], Field(max_length=reconciliations.MAX_ITEMS)] = []
    notes_to_apply: Annotated[list[NoteIn], Field(max_length=reconciliations.MAX_ITEMS)] = []
    notes: Annotated[str, Field(max_length=reconciliations.MAX_TEXT)] = ""


@router.post(
    "/v1/clients/{client_id}/reconciliations",
    status_code=201,
    responses={**_OFFICE, 404: {"description": "`client_not_found`"}},
)
def schedule_reconciliation(
    client_id: uuid.UUID, body: ScheduleIn, session: SessionDep, clock: ClockDep, actor: ActorDep
) -> ReconciliationOut:
    """Put a reconciliation with the client on the agenda for `scheduled_for`."""
    out = reconciliations.schedule(
        session, actor, client_id, scheduled_for=body.scheduled_for, notes=body.notes, now=clock()
    )
    session.commit()
    return out


@router.get(
    "/v1/reconciliations",
    responses={**_OFFICE, 422: {"description": "`invalid_period`, `invalid_input`"}},
)
def list_reconciliations(
    session: SessionDep,
    actor: ActorDep,
    status: Literal["scheduled", "done", "cancelled", "all"] = "scheduled",
    start: Annotated[IsoDate | None, Query(alias="from", description="scheduled from")] = None,
    end: Annotated[IsoDate | None, Query(alias="to", description="scheduled until")] = None,
    client: Annotated[uuid.UUID | None, Query(description="a client id")] = None,
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
    limit: Annotated[int, Query(ge=1, le=reconciliations.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> ReconciliationPage:
    """The agenda: scheduled reconciliations by date, soonest first (`status` for the others)."""
    return reconciliations.agenda(
        session,
        actor,
        status=None if status == "all" else status,
        start=start,
        end=end,
        client_id=client,
        collector=collector,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/v1/reconciliations/{reconciliation_id}",
    responses={
        **_ONE,
        **file_responses(PDF, XLSX),
        422: {"description": "`invalid_format`"},
    },
    response_model=ReconciliationOut,
)
def get_reconciliation(
    reconciliation_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    format: FormatQuery = None,
) -> Any:
    """One reconciliation with its differences and notes: JSON, or the statement of the
    reconciliation as PDF or XLSX (`?format=` or Accept)."""
    fmt = choose_format(format, request.headers.get("accept"), offered=(JSON, PDF, XLSX))
    out = reconciliations.get_reconciliation(session, actor, reconciliation_id)
    if fmt is JSON:
        return out
    content, stem = export_file(
        out,
        "pdf" if fmt is PDF else "xlsx",
        generated_at=clock(),
        tz=settings.tz,
        currency=settings.currency,
        locale=settings.locale,
    )
    return file_response(content, fmt, stem)


@router.post(
    "/v1/reconciliations/{reconciliation_id}/complete",
    responses={
        **_ONE,
        409: {"description": "`reconciliation_closed`: already recorded or cancelled"},
        422: {
            "description": "`invalid_as_of`, `invoice_not_found`, `note_exceeds_balance`, "
            "`invalid_amount`, `invalid_item`, `invalid_reason_code`, `reason_required`, "
            "`invalid_input`"
        },
    },
)
def complete_reconciliation(
    reconciliation_id: uuid.UUID,
    body: CompleteIn,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
) -> ReconciliationOut:
    """Record it once: our balance at `as_of` from the ledger, the client's as given, the
    differences, and the notes applied (ledger adjustments approved by the caller, dated
    today). Audited."""
    now = clock()
    out = reconciliations.complete(
        session,
        actor,
        reconciliation_id,
        as_of=body.as_of,
        client_balance=body.client_balance,
        statement_ref=body.statement_ref,
        items=body.items,
        notes_to_apply=body.notes_to_apply,
        remarks=body.notes,
        today=business_date(now, settings.tz),
        now=now,
    )
    session.commit()
    return out
