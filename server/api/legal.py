"""Cobro jurídico: law firms (`/v1/law-firms`), referring a client
(`/v1/clients/{id}/legal-referrals`), the referrals and their updates (`/v1/legal-referrals`), and
the clients the rules suggest referring. Office only (supervisor or admin)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.services import legal
from server.services.legal import (
    LawFirmOut,
    Outcome,
    ReferralOut,
    ReferralPage,
    Status,
    Suggestions,
    UpdateStatus,
)

router = APIRouter(tags=["legal"])

_OFFICE: dict[int | str, dict[str, Any]] = {
    403: {"description": "`insufficient_role`: supervisors and admins only"},
}
Text200 = Annotated[str, Field(max_length=200)]


class LawFirmIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    tax_id: Annotated[str, Field(max_length=32)] = ""
    contact_name: Text200 = ""
    email: Text200 = ""
    phone: Annotated[str, Field(max_length=64)] = ""


class LawFirmPatch(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    tax_id: Annotated[str, Field(max_length=32)] | None = None
    contact_name: Text200 | None = None
    email: Text200 | None = None
    phone: Annotated[str, Field(max_length=64)] | None = None
    active: bool | None = Field(default=None, description="false deactivates the firm")


class ReferralIn(BaseModel):
    law_firm_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=legal.MAX_NOTE)]
    invoice_numbers: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]],
        Field(max_length=legal.MAX_INVOICES, description="[] (default): the whole client"),
    ] = []


class ReferralUpdateIn(BaseModel):
    status: UpdateStatus
    outcome: Outcome | None = Field(default=None, description="required when closing")
    note: Annotated[str, Field(max_length=legal.MAX_NOTE)] = ""


@router.get("/v1/law-firms", responses=_OFFICE)
def list_law_firms(
    session: SessionDep, actor: ActorDep, active: bool | None = None
) -> list[LawFirmOut]:
    """The directory of external law firms, by name (`active=true`: only those taking cases)."""
    return legal.list_firms(session, actor, active_only=bool(active))


@router.post(
    "/v1/law-firms",
    status_code=status.HTTP_201_CREATED,
    responses={**_OFFICE, 409: {"description": "`law_firm_exists`: same name (any case)"}},
)
def create_law_firm(session: SessionDep, actor: ActorDep, body: LawFirmIn) -> LawFirmOut:
    firm = legal.create_firm(session, actor, body.model_dump())
    session.commit()
    return firm


@router.patch(
    "/v1/law-firms/{firm_id}",
    responses={
        **_OFFICE,
        404: {"description": "`law_firm_not_found`"},
        409: {"description": "`law_firm_exists`"},
    },
)
def patch_law_firm(
    firm_id: uuid.UUID, session: SessionDep, actor: ActorDep, body: LawFirmPatch
) -> LawFirmOut:
    """Change contact data; `active: false` deactivates the firm (no new referrals; its open
    cases stay with it), `true` reactivates it. Audited."""
    firm = legal.update_firm(session, actor, firm_id, body.model_dump(exclude_none=True))
    session.commit()
    return firm


@router.post(
    "/v1/clients/{client_id}/legal-referrals",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_OFFICE,
        404: {"description": "`client_not_found`"},
        409: {"description": "`referral_open`: the client already has an open referral"},
        422: {
            "description": "`unknown_law_firm`, `law_firm_inactive`, `reason_required`, "
            "`unknown_invoice`, `invoice_settled`, `nothing_to_refer`, `invalid_input`"
        },
    },
)
def refer_client(
    client_id: uuid.UUID, session: SessionDep, clock: ClockDep, actor: ActorDep, body: ReferralIn
) -> ReferralOut:
    """Refer the client (or the invoices named) to a law firm. The amount is the balance referred
    at this moment. The collector's phone shows the client as "En cobro jurídico"."""
    referral = legal.refer(
        session,
        actor,
        client_id,
        law_firm_id=body.law_firm_id,
        reason=body.reason,
        invoice_numbers=body.invoice_numbers,
        now=clock(),
    )
    session.commit()
    return referral


@router.get("/v1/legal-referrals", responses=_OFFICE)
def list_legal_referrals(
    session: SessionDep,
    actor: ActorDep,
    status: Status | Literal["open"] | None = None,
    firm: Annotated[uuid.UUID | None, Query(description="a law firm's id")] = None,
    outcome: Outcome | None = None,
    client: Annotated[uuid.UUID | None, Query(description="a client's id")] = None,
    limit: Annotated[int, Query(ge=1, le=legal.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> ReferralPage:
    """Referrals, newest first, filtered by status (`open`: referred or in progress), firm,
    outcome or client."""
    return legal.list_referrals(
        session,
        actor,
        status=status,
        firm_id=firm,
        outcome=outcome,
        client_id=client,
        limit=limit,
        offset=offset,
    )


@router.get("/v1/legal-referrals/suggested", responses=_OFFICE)
def suggested_referrals(
    session: SessionDep, settings: SettingsDep, clock: ClockDep, actor: ActorDep
) -> Suggestions:
    """Clients whose oldest overdue invoice is at least `RECAUDO_LEGAL_MIN_DAYS_PAST_DUE` (180)
    days past due and who broke at least `RECAUDO_LEGAL_MIN_BROKEN_PROMISES` (2) promises due in
    the last `RECAUDO_LEGAL_PROMISE_LOOKBACK_DAYS` (365), not already referred, with the
    reasons; oldest debt first."""
    now = clock()
    return legal.suggested_by_settings(session, actor, settings, now)


@router.get(
    "/v1/legal-referrals/{referral_id}",
    responses={**_OFFICE, 404: {"description": "`referral_not_found`"}},
)
def get_legal_referral(referral_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ReferralOut:
    """One referral with its history (every status change and note, oldest first)."""
    return legal.get_referral(session, actor, referral_id)


@router.post(
    "/v1/legal-referrals/{referral_id}/updates",
    responses={
        **_OFFICE,
        404: {"description": "`referral_not_found`"},
        409: {"description": "`referral_closed`"},
        422: {"description": "`outcome_required`, `outcome_not_allowed`, `invalid_input`"},
    },
)
def update_legal_referral(
    referral_id: uuid.UUID,
    session: SessionDep,
    clock: ClockDep,
    actor: ActorDep,
    body: ReferralUpdateIn,
) -> ReferralOut:
    """Record progress (`in_progress`, with a note) or close the case with its outcome:
    `recovered` or `agreement` (positive) or `negative`. Closing gives the client back to the
    collector's normal list on the phone. Audited."""
    referral = legal.add_update(
        session,
        actor,
        referral_id,
        status=body.status,
        outcome=body.outcome,
        note=body.note,
        now=clock(),
    )
    session.commit()
    return referral
