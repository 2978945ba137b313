"""Disputes and returns (`/v1/disputes`, `/v1/clients/{client_id}/disputes`): the office opens
one on a client's invoice, lists them, and accepts (credit note) or rejects each once."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.services import disputes
from server.services.disputes import DisputeOut, DisputePage
from shared.calendar import business_date
from shared.clients import MoneyStr
from sync.protocol import DisputeKind, DisputeReason

router = APIRouter(tags=["disputes"])

_OFFICE: dict[int | str, dict[str, Any]] = {
    403: {"description": "`insufficient_role`: supervisors and admins only"},
}
_DECISION: dict[int | str, dict[str, Any]] = {
    **_OFFICE,
    404: {"description": "`dispute_not_found`"},
    409: {"description": "`dispute_decided`: it was already accepted or rejected"},
}


class OpenDisputeIn(BaseModel):
    invoice_number: Annotated[str, Field(min_length=1, max_length=64)]
    amount: MoneyStr
    kind: DisputeKind = "dispute"
    reason_code: DisputeReason
    notes: Annotated[str, Field(max_length=disputes.MAX_NOTE)] = ""


class AcceptIn(BaseModel):
    accepted_amount: MoneyStr | None = Field(
        default=None, description="at most the disputed amount; the whole of it by default"
    )
    note: Annotated[str, Field(max_length=disputes.MAX_NOTE)] = ""


class RejectIn(BaseModel):
    note: Annotated[str, Field(max_length=disputes.MAX_NOTE, description="why (required)")] = ""


@router.post(
    "/v1/clients/{client_id}/disputes",
    status_code=201,
    responses={
        **_OFFICE,
        404: {"description": "`client_not_found`"},
        422: {
            "description": "`invoice_not_found`, `dispute_exceeds_balance`, `invalid_amount`, "
            "`invalid_input`"
        },
    },
)
def open_dispute(
    client_id: uuid.UUID, body: OpenDisputeIn, session: SessionDep, clock: ClockDep, actor: ActorDep
) -> DisputeOut:
    """Open a dispute (glosa) or return (devolución) on one of the client's invoices. It does not
    change the debt; aging shows it apart until it is decided."""
    out = disputes.open_dispute(
        session,
        actor,
        client_id,
        invoice_number=body.invoice_number,
        amount=body.amount,
        kind=body.kind,
        reason_code=body.reason_code,
        notes=body.notes,
        now=clock(),
    )
    session.commit()
    return out


@router.get("/v1/disputes", responses={**_OFFICE, 422: {"description": "`invalid_input`"}})
def list_disputes(
    session: SessionDep,
    actor: ActorDep,
    status: Literal["open", "accepted", "rejected", "all"] = "open",
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
    client: Annotated[uuid.UUID | None, Query(description="a client id")] = None,
    limit: Annotated[int, Query(ge=1, le=disputes.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> DisputePage:
    """Disputes oldest first (open ones unless `status` says otherwise), by the client's current
    collector and by client."""
    return disputes.list_disputes(
        session,
        actor,
        status=None if status == "all" else status,
        collector=collector,
        client_id=client,
        limit=limit,
        offset=offset,
    )


@router.get("/v1/disputes/{dispute_id}", responses=_DECISION)
def get_dispute(dispute_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> DisputeOut:
    """One dispute with the credit note its acceptance posted."""
    return disputes.get_dispute(session, actor, dispute_id)


@router.post(
    "/v1/disputes/{dispute_id}/accept",
    responses={
        **_DECISION,
        422: {
            "description": "`invalid_accepted_amount`, `invoice_unknown`, "
            "`dispute_exceeds_balance`, `invalid_input`"
        },
    },
)
def accept_dispute(
    dispute_id: uuid.UUID,
    body: AcceptIn,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
) -> DisputeOut:
    """Accept it (all, or `accepted_amount` of it): a credit note of that amount on the invoice,
    approved by the caller, dated today; the rest stays due. Once (audited)."""
    now = clock()
    out = disputes.accept(
        session,
        actor,
        dispute_id,
        accepted_amount=body.accepted_amount,
        note=body.note,
        today=business_date(now, settings.tz),
        now=now,
    )
    session.commit()
    return out


@router.post(
    "/v1/disputes/{dispute_id}/reject",
    responses={**_DECISION, 422: {"description": "`note_required`, `invalid_input`"}},
)
def reject_dispute(
    dispute_id: uuid.UUID, body: RejectIn, session: SessionDep, clock: ClockDep, actor: ActorDep
) -> DisputeOut:
    """Reject it, saying why: the invoice stays due. Once (audited)."""
    out = disputes.reject(session, actor, dispute_id, note=body.note, now=clock())
    session.commit()
    return out
