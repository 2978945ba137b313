"""Cash in hand and handovers (`/v1/cash`): what each collector still holds, the handovers their
phones sent, and the supervisor's confirmation against the bank or the till."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.services import cash
from server.services.cash import CashInHand, Handover, HandoverStatus
from shared.calendar import business_date
from shared.money import MAX_AMOUNT

router = APIRouter(prefix="/v1/cash", tags=["cash"])

HandoverId = Annotated[uuid.UUID, Path(description="the handover's id (its phone event id)")]
_DECISION_ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "`insufficient_role`: supervisors and admins only"},
    404: {"description": "`handover_not_found`"},
    409: {"description": "`handover_decided`: already confirmed or rejected"},
}


class Confirm(BaseModel):
    amount: Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, decimal_places=2)]
    note: Annotated[str, Field(max_length=cash.MAX_NOTE)] = ""


class Reject(BaseModel):
    note: Annotated[str, Field(min_length=1, max_length=cash.MAX_NOTE)]


@router.get(
    "/in-hand",
    responses={404: {"description": "`collector_not_found`"}},
)
def cash_in_hand(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
) -> CashInHand:
    """Per collector: the cash payments not in a pending or confirmed handover (voided ones
    excluded), their total and the oldest one's age in calendar days, each with client, receipt,
    amount, business day and age. A collector sees only their own."""
    today = business_date(clock(), settings.tz)
    return cash.in_hand(session, actor, today=today, tz=settings.tz, collector=collector)


@router.get("/handovers")
def list_handovers(
    session: SessionDep, actor: ActorDep, status: HandoverStatus | None = None
) -> list[Handover]:
    """Handovers newest first (a collector: their own), with `hold_reason` when the push held
    one (its payments did not add up, a deposit without reference...)."""
    return cash.list_handovers(session, actor, status=status)


@router.post(
    "/handovers/{handover_id}/confirm",
    responses={
        **_DECISION_ERRORS,
        409: {
            "description": "`handover_decided`, `handover_held` (held: reject it), "
            "`handover_payment_voided` (a payment was voided since)"
        },
        422: {"description": "`amount_mismatch`: the amount seen differs (reject it instead)"},
    },
)
def confirm_handover(
    session: SessionDep, clock: ClockDep, actor: ActorDep, handover_id: HandoverId, body: Confirm
) -> Handover:
    """The supervisor saw `amount` in the bank (or the till): it must be the handover's. Its
    payments leave cash in hand for good; the phone learns `confirmed`. Audited."""
    found = cash.confirm(
        session, actor, handover_id, amount=body.amount, note=body.note, now=clock()
    )
    session.commit()
    return found


@router.post(
    "/handovers/{handover_id}/reject",
    responses={**_DECISION_ERRORS, 422: {"description": "`note_required`"}},
)
def reject_handover(
    session: SessionDep, clock: ClockDep, actor: ActorDep, handover_id: HandoverId, body: Reject
) -> Handover:
    """Not what the bank shows (or held): its payments go back to cash in hand; the phone
    learns `rejected` with the note. Audited."""
    found = cash.reject(session, actor, handover_id, note=body.note, now=clock())
    session.commit()
    return found
