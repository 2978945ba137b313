"""Cobro jurídico: the directory of external law firms, referring a client (or some of its
invoices) to one, the referral's status updates to an outcome, the legal KPI, and the clients
the rules suggest referring.

- A client has at most one open referral (`referred` or `in_progress`): a second one is 409
  `referral_open`. The referred amount is the balance handed over at that moment: the client's
  balance, or the named invoices' balances (each must be the client's and still owe something).
- Closing needs an outcome: `recovered` or `agreement` (positive) or `negative`. A closed
  referral takes no more updates (409 `referral_closed`).
- Referring and closing change what the collector's phone shows ("En cobro jurídico", no visit
  suggested), so both end with `changes.clients_changed` for the client.
- Suggested: clients whose oldest overdue invoice is at least `min_days` past due and who broke
  at least `min_broken` promises due within the lookback (status from shared.promises), not
  already in an open referral, each with the reasons.

Office only (supervisor or admin). Every decision writes an audit row. Never commits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo
from typing import Final, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from server.db.models import LawFirm, LegalReferral, LegalReferralUpdate
from server.repositories import audit as audit_repo
from server.repositories import kpis as kpis_repo
from server.repositories import legal as legal_repo
from server.repositories import review as review_repo
from server.repositories.kpis import Scope
from server.services import changes
from server.services.access import Actor, require_office
from server.services.kpis import judged_promises
from server.settings import Settings
from shared.calendar import business_date
from shared.clients import MoneyStr
from shared.errors import Conflict, InvalidInput, NotFound
from shared.formatting import format_number
from shared.money import ZERO
from shared.promises import PromiseStatus
from shared.visits import EFFECTIVE_OUTCOMES

Status = Literal["referred", "in_progress", "closed"]
UpdateStatus = Literal["in_progress", "closed"]
Outcome = Literal["recovered", "agreement", "negative"]
POSITIVE: Final = frozenset(legal_repo.POSITIVE_OUTCOMES)
MAX_NOTE: Final = 2000
MAX_INVOICES: Final = 500
MAX_PAGE: Final = 500


# --- read models ------------------------------------------------------------------------------


class LawFirmOut(BaseModel):
    id: uuid.UUID
    name: str
    tax_id: str
    contact_name: str
    email: str
    phone: str
    active: bool
    created_at: datetime


class ReferralUpdateOut(BaseModel):
    at: datetime
    by: str
    status: Status
    outcome: Outcome | None
    note: str


class ReferralOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    client_code: str
    client_name: str
    client_tax_id: str
    law_firm_id: uuid.UUID
    law_firm: str
    invoice_numbers: list[str] = Field(description="[] = the whole client")
    amount: MoneyStr = Field(description="the balance referred, at referral")
    reason: str
    status: Status
    outcome: Outcome | None
    positive: bool | None = Field(description="null while open")
    referred_by: str
    referred_at: datetime
    closed_at: datetime | None
    history: list[ReferralUpdateOut] = Field(default=[], description="detail only")


class ReferralPage(BaseModel):
    items: list[ReferralOut]
    total: int
    limit: int
    offset: int


class SuggestionReason(BaseModel):
    code: Literal["aging", "broken_promises"]
    text: str


class SuggestedReferral(BaseModel):
    client_id: uuid.UUID
    code: str
    name: str
    collector: str | None
    segment: str
    overdue_balance: MoneyStr
    oldest_days_past_due: int
    broken_promises: int
    reasons: list[SuggestionReason]


class Suggestions(BaseModel):
    as_of: date
    min_days_past_due: int
    min_broken_promises: int
    lookback_days: int
    items: list[SuggestedReferral]


# --- law firms --------------------------------------------------------------------------------


def _firm_out(f: LawFirm) -> LawFirmOut:
    return LawFirmOut.model_validate(f, from_attributes=True)


def list_firms(session: Session, actor: Actor, *, active_only: bool = False) -> list[LawFirmOut]:
    require_office(actor)
    return [_firm_out(f) for f in legal_repo.firms(session, active_only=active_only)]


def _audit(
    session: Session, actor: Actor, action: str, entity: str, entity_id: object, **details: object
) -> None:
    audit_repo.record(
        session,
        actor_id=actor.user_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        details={k: v if isinstance(v, bool | int | None) else str(v) for k, v in details.items()},
    )


def _check_name_free(session: Session, name: str, own: uuid.UUID | None = None) -> None:
    same = legal_repo.firm_named(session, name)
    if same is not None and same.id != own:
        raise Conflict(f"ya hay una firma llamada {same.name!r}", code="law_firm_exists")


def create_firm(session: Session, actor: Actor, fields: dict[str, str]) -> LawFirmOut:
    """A new active firm; the name is unique ignoring case (409 `law_firm_exists`)."""
    require_office(actor)
    name = fields["name"].strip()
    if not name:
        raise InvalidInput("la firma necesita un nombre", code="invalid_input")
    _check_name_free(session, name)
    firm = LawFirm(
        id=uuid.uuid4(),
        name=name,
        active=True,
        **{k: v.strip() for k, v in fields.items() if k != "name"},
    )
    session.add(firm)
    session.flush()
    _audit(session, actor, "law_firm.create", "law_firm", firm.id, name=name)
    session.flush()
    return _firm_out(firm)


def update_firm(
    session: Session, actor: Actor, firm_id: uuid.UUID, fields: dict[str, str | bool]
) -> LawFirmOut:
    """Change a firm's contact data, or deactivate (`active: false`) / reactivate it. A
    deactivated firm takes no new referrals; its open ones stay with it."""
    require_office(actor)
    firm = legal_repo.firm(session, firm_id)
    if firm is None:
        raise NotFound("no such law firm", code="law_firm_not_found")
    changed: dict[str, object] = {}
    for key, value in fields.items():
        value = value.strip() if isinstance(value, str) else value
        if key == "name":
            if not value:
                raise InvalidInput("la firma necesita un nombre", code="invalid_input")
            _check_name_free(session, str(value), own=firm.id)
        if getattr(firm, key) != value:
            changed[key] = value
            setattr(firm, key, value)
    if changed:
        _audit(session, actor, "law_firm.update", "law_firm", firm.id, **changed)
        session.flush()
    return _firm_out(firm)


# --- referrals --------------------------------------------------------------------------------


def _referral_out(
    row: legal_repo.ReferralRow, history: list[ReferralUpdateOut] | None = None
) -> ReferralOut:
    r = row.referral
    return ReferralOut(
        id=r.id,
        client_id=r.client_id,
        client_code=row.client_code,
        client_name=row.client_name,
        client_tax_id=row.client_tax_id,
        law_firm_id=r.law_firm_id,
        law_firm=row.firm_name,
        invoice_numbers=list(r.invoice_numbers or []),
        amount=r.amount,
        reason=r.reason,
        status=r.status,  # type: ignore[arg-type]
        outcome=r.outcome,  # type: ignore[arg-type]
        positive=None if r.outcome is None else r.outcome in POSITIVE,
        referred_by=row.referred_by,
        referred_at=r.referred_at,
        closed_at=r.closed_at,
        history=history or [],
    )


def refer(
    session: Session,
    actor: Actor,
    client_id: uuid.UUID,
    *,
    law_firm_id: uuid.UUID,
    reason: str,
    invoice_numbers: list[str],
    now: datetime,
) -> ReferralOut:
    """Hand the client (`invoice_numbers` empty) or those invoices to an active firm.
    404 `client_not_found`; 422 `unknown_law_firm`, `law_firm_inactive`, `reason_required`,
    `unknown_invoice`, `invoice_settled`, `nothing_to_refer`; 409 `referral_open`."""
    require_office(actor)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("diga por qué se remite el caso", code="reason_required")
    if len(reason) > MAX_NOTE:
        raise InvalidInput(f"la razón pasa de {MAX_NOTE} caracteres", code="note_too_long")
    numbers = list(dict.fromkeys(n.strip() for n in invoice_numbers if n.strip()))
    if len(numbers) > MAX_INVOICES:
        raise InvalidInput(f"a lo sumo {MAX_INVOICES} facturas", code="invalid_input")
    # The client's row lock serializes two referrals of the same client (one open at a time).
    client = review_repo.lock_client(session, client_id)
    if client is None:
        raise NotFound("no such client", code="client_not_found")
    firm = legal_repo.firm(session, law_firm_id)
    if firm is None:
        raise InvalidInput("no such law firm", code="unknown_law_firm")
    if not firm.active:
        raise InvalidInput(f"la firma {firm.name} está inactiva", code="law_firm_inactive")
    existing = legal_repo.open_referral(session, client.id)
    if existing is not None:
        raise Conflict(
            "el cliente ya tiene un caso abierto en cobro jurídico",
            code="referral_open",
            details={"referral_id": str(existing.id)},
        )
    if numbers:
        balances = legal_repo.open_invoice_balances(session, client.id, numbers)
        unknown = [n for n in numbers if n not in balances]
        if unknown:
            raise InvalidInput(
                "facturas que no son de este cliente: " + ", ".join(unknown),
                code="unknown_invoice",
                details={"invoice_numbers": unknown},
            )
        settled = [n for n in numbers if balances[n] <= ZERO]
        if settled:
            raise InvalidInput(
                "facturas sin saldo: " + ", ".join(settled),
                code="invoice_settled",
                details={"invoice_numbers": settled},
            )
        amount = sum((balances[n] for n in numbers), ZERO)
    else:
        amount = client.balance
    if amount <= ZERO:
        raise InvalidInput("el cliente no debe nada: no hay qué remitir", code="nothing_to_refer")
    referral = LegalReferral(
        id=uuid.uuid4(),
        client_id=client.id,
        law_firm_id=firm.id,
        invoice_numbers=numbers,
        amount=amount,
        reason=reason,
        status="referred",
        outcome=None,
        referred_by=actor.user_id,
        referred_at=now,
        closed_at=None,
    )
    session.add(referral)
    session.flush()
    session.add(
        LegalReferralUpdate(
            referral_id=referral.id, at=now, by=actor.user_id, status="referred", note=reason
        )
    )
    _audit(
        session,
        actor,
        "legal.refer",
        "legal_referral",
        referral.id,
        client_id=client.id,
        law_firm_id=firm.id,
        amount=amount,
        invoices=len(numbers),
    )
    session.flush()
    # Last: the collector's phone shows the client in cobro jurídico.
    changes.clients_changed(session, [client.id])
    return get_referral(session, actor, referral.id)


def add_update(
    session: Session,
    actor: Actor,
    referral_id: uuid.UUID,
    *,
    status: str,
    outcome: str | None,
    note: str,
    now: datetime,
) -> ReferralOut:
    """A status change or a note from the firm. 404 `referral_not_found`; 409 `referral_closed`;
    422 `invalid_status`, `outcome_required`, `outcome_not_allowed`, `invalid_outcome`."""
    require_office(actor)
    if status not in ("in_progress", "closed"):
        raise InvalidInput("status is in_progress or closed", code="invalid_status")
    if status == "closed" and outcome is None:
        raise InvalidInput(
            "para cerrar el caso diga el resultado: recovered, agreement o negative",
            code="outcome_required",
        )
    if status != "closed" and outcome is not None:
        raise InvalidInput("el resultado va solo al cerrar", code="outcome_not_allowed")
    if outcome is not None and outcome not in ("recovered", "agreement", "negative"):
        raise InvalidInput("outcome is recovered, agreement or negative", code="invalid_outcome")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"la nota pasa de {MAX_NOTE} caracteres", code="note_too_long")
    referral = legal_repo.lock_referral(session, referral_id)
    if referral is None:
        raise NotFound("no such legal referral", code="referral_not_found")
    if referral.status == "closed":
        raise Conflict("el caso ya está cerrado", code="referral_closed")
    referral.status = status
    if status == "closed":
        referral.outcome = outcome
        referral.closed_at = now
    session.add(
        LegalReferralUpdate(
            referral_id=referral.id,
            at=now,
            by=actor.user_id,
            status=status,
            outcome=outcome,
            note=note.strip(),
        )
    )
    _audit(
        session,
        actor,
        "legal.update",
        "legal_referral",
        referral.id,
        status=status,
        outcome=outcome,
    )
    session.flush()
    if status == "closed":  # the phone stops showing "En cobro jurídico"
        changes.clients_changed(session, [referral.client_id])
    return get_referral(session, actor, referral.id)


def get_referral(session: Session, actor: Actor, referral_id: uuid.UUID) -> ReferralOut:
    require_office(actor)
    row = legal_repo.referral(session, referral_id)
    if row is None:
        raise NotFound("no such legal referral", code="referral_not_found")
    return _referral_out(row, _histories(session, [referral_id])[referral_id])


def _histories(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ReferralUpdateOut]]:
    found: dict[uuid.UUID, list[ReferralUpdateOut]] = defaultdict(list)
    for u, by in legal_repo.updates(session, ids):
        found[u.referral_id].append(
            ReferralUpdateOut(
                at=u.at,
                by=by,
                status=u.status,  # type: ignore[arg-type]
                outcome=u.outcome,  # type: ignore[arg-type]
                note=u.note,
            )
        )
    return found


def list_referrals(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    firm_id: uuid.UUID | None = None,
    outcome: str | None = None,
    client_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
    with_history: bool = False,
) -> ReferralPage:
    """A page of referrals, newest first; `with_history` adds each one's updates (one query)."""
    require_office(actor)
    rows, total = legal_repo.referrals(
        session,
        status=status,
        firm_id=firm_id,
        outcome=outcome,
        client_id=client_id,
        limit=limit,
        offset=offset,
    )
    histories = _histories(session, [r.referral.id for r in rows]) if with_history else {}
    return ReferralPage(
        items=[_referral_out(r, histories.get(r.referral.id)) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


# --- suggestion -------------------------------------------------------------------------------


def suggested(
    session: Session,
    actor: Actor,
    *,
    today: date,
    now: datetime,
    tz: tzinfo,
    min_days: int,
    min_broken: int,
    lookback_days: int,
) -> Suggestions:
    """The clients the rules suggest referring (see the module docstring), oldest debt first."""
    require_office(actor)
    scope = Scope()
    referred = legal_repo.referred_client_ids(session)
    candidates = [
        c
        for c in kpis_repo.overdue_clients(
            session, today, scope, effective_outcomes=sorted(EFFECTIVE_OUTCOMES)
        )
        if (today - c.oldest_due).days >= min_days and c.client_id not in referred
    ]
    broken: dict[object, int] = defaultdict(int)
    if candidates and min_broken > 0:
        since = today - timedelta(days=lookback_days)
        for row, status in judged_promises(session, since, today, scope, now, tz):
            if status is PromiseStatus.BROKEN:
                broken[row.client_id] += 1
    items: list[SuggestedReferral] = []
    for c in candidates:
        count = broken.get(c.client_id, 0)
        if count < min_broken:
            continue
        days = (today - c.oldest_due).days
        reasons = [
            SuggestionReason(
                code="aging",
                text=f"factura más antigua con {format_number(days)} días de vencida "
                f"(umbral {min_days})",
            )
        ]
        if min_broken > 0:
            reasons.append(
                SuggestionReason(
                    code="broken_promises",
                    text=f"{count} promesa(s) incumplida(s) en los últimos {lookback_days} días",
                )
            )
        items.append(
            SuggestedReferral(
                client_id=c.client_id,
                code=c.code,
                name=c.name,
                collector=c.collector,
                segment=c.segment,
                overdue_balance=c.overdue_balance,
                oldest_days_past_due=days,
                broken_promises=count,
                reasons=reasons,
            )
        )
    items.sort(key=lambda s: (-s.oldest_days_past_due, -s.overdue_balance, s.code))
    return Suggestions(
        as_of=today,
        min_days_past_due=min_days,
        min_broken_promises=min_broken,
        lookback_days=lookback_days,
        items=items,
    )


def suggested_by_settings(
    session: Session, actor: Actor, settings: Settings, now: datetime
) -> Suggestions:
    """`suggested` with the server's thresholds (RECAUDO_LEGAL_*) at `now`."""
    return suggested(
        session,
        actor,
        today=business_date(now, settings.tz),
        now=now,
        tz=settings.tz,
        min_days=settings.legal_min_days_past_due,
        min_broken=settings.legal_min_broken_promises,
        lookback_days=settings.legal_promise_lookback_days,
    )
