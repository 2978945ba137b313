"""Payment agreements (acuerdos de pago): the office creates them for a client, lists and reads
them with their compliance at today's business date, and approves, rejects or cancels the phone's
proposals. Collectors may list and read their own clients' agreements."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.services import agreements
from server.services.access import Actor
from server.services.agreements import MAX_NOTE, MAX_PAGE, AgreementPage, AgreementView
from server.settings import Settings
from shared.calendar import business_date
from sync.protocol import MAX_INSTALLMENTS, Installment

router = APIRouter(tags=["agreements"])

AgreementStatus = agreements.Status
_OFFICE: dict[int | str, dict[str, Any]] = {
    403: {"description": "`insufficient_role`: supervisors and admins only"}
}
_DECISION: dict[int | str, dict[str, Any]] = {
    **_OFFICE,
    404: {"description": "`agreement_not_found`"},
    422: {"description": "`note_too_long`, `invalid_input`"},
}


class NewAgreement(BaseModel):
    installments: tuple[Installment, ...] = Field(min_length=1, max_length=MAX_INSTALLMENTS)
    notes: Annotated[str, Field(max_length=MAX_NOTE)] = ""


class Decision(BaseModel):
    note: Annotated[str, Field(max_length=MAX_NOTE)] = ""


@router.post(
    "/v1/clients/{client_id}/agreements",
    status_code=201,
    responses={
        **_OFFICE,
        404: {"description": "`client_not_found`"},
        409: {"description": "`client_closed`, `agreement_already_active`"},
        422: {
            "description": "`agreement_invalid` (due dates not strictly increasing, the first "
            "before today minus 2 days, the last more than ten years ahead), `invalid_input`"
        },
    },
)
def create_agreement(
    client_id: uuid.UUID,
    body: NewAgreement,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
) -> AgreementView:
    """An agreement made in the office: active at once; the client's payments from today on
    count towards its installments, in due order."""
    view = agreements.create(
        session,
        actor,
        client_id,
        installments=[(i.due_date, i.amount) for i in body.installments],
        notes=body.notes,
        now=clock(),
        tz=settings.tz,
    )
    session.commit()
    return view


@router.get("/v1/agreements", responses={422: {"description": "`invalid_input`"}})
def list_agreements(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    status: AgreementStatus | None = None,
    standing: agreements.StandingName | None = None,
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
    client_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 200,
) -> AgreementPage:
    """Agreements with their standing at today's business date: proposals first (oldest first),
    then broken, on track, completed, then rejected and cancelled ones (standing null). A
    collector gets only their own clients' agreements, whatever `collector` says."""
    return agreements.list_agreements(
        session,
        actor,
        tz=settings.tz,
        as_of=business_date(clock(), settings.tz),
        statuses=None if status is None else [status],
        standing=standing,
        collector=collector,
        client_id=client_id,
        limit=limit,
    )


@router.get(
    "/v1/agreements/{agreement_id}",
    responses={404: {"description": "`agreement_not_found`: no such agreement, or not yours"}},
)
def get_agreement(
    agreement_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
) -> AgreementView:
    """One agreement with each installment's paid amount and status at today's business date."""
    return agreements.get_agreement(
        session, actor, agreement_id, tz=settings.tz, as_of=business_date(clock(), settings.tz)
    )


@router.post(
    "/v1/agreements/{agreement_id}/approve",
    responses={
        **_DECISION,
        409: {"description": "`agreement_not_proposed`, `agreement_already_active`"},
    },
)
def approve_agreement(
    agreement_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    body: Decision | None = None,
) -> AgreementView:
    """A phone's proposal becomes active (audited; the collector's phone gets the client again)."""
    note = body.note if body else ""
    return _decided(agreements.approve, session, actor, agreement_id, note, clock(), settings)


@router.post(
    "/v1/agreements/{agreement_id}/reject",
    responses={
        **_DECISION,
        409: {"description": "`agreement_not_proposed`"},
        422: {"description": "`note_required`, `note_too_long`, `invalid_input`"},
    },
)
def reject_agreement(
    agreement_id: uuid.UUID,
    body: Decision,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
) -> AgreementView:
    """A phone's proposal is turned down; the note says why (required)."""
    return _decided(agreements.reject, session, actor, agreement_id, body.note, clock(), settings)


@router.post(
    "/v1/agreements/{agreement_id}/cancel",
    responses={**_DECISION, 409: {"description": "`agreement_closed`"}},
)
def cancel_agreement(
    agreement_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    body: Decision | None = None,
) -> AgreementView:
    """An active or proposed agreement ends (e.g. a broken one): it leaves the phone."""
    note = body.note if body else ""
    return _decided(agreements.cancel, session, actor, agreement_id, note, clock(), settings)


def _decided(
    decide: Callable[..., AgreementView],
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    note: str,
    now: datetime,
    settings: Settings,
) -> AgreementView:
    view = decide(session, actor, agreement_id, note=note, now=now, tz=settings.tz)
    session.commit()
    return view
