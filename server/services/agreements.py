"""Payment agreements in the office: create one (active at once), list and read them with their
compliance at a business date, and decide about the phone's proposals (approve or reject), or
cancel one. Collectors may list and read the agreements of their own clients; only the office
decides. Every decision writes an audit row and, last in the transaction, a client put so the
collector's phone shows it (changes.clients_changed). Never commits.

Rules: at most one active agreement per client (payments count towards it without ambiguity; a
second one waits as `proposed` until the first is cancelled); approve and reject only from
`proposed` (409 `agreement_not_proposed`), cancel only an active or proposed one (409
`agreement_closed`); rejecting needs a note (422 `note_required`). Compliance (shared/agreements.py)
counts the client's payments from the business day the agreement was proposed (field) or created
(office)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Final, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from server.db.models import PaymentAgreement
from server.repositories import agreements as repo
from server.repositories import audit as audit_repo
from server.repositories.agreements import AgreementRow
from server.services import changes
from server.services.access import Actor, require_office
from shared.agreements import Compliance, Installment, PaymentOn, check_proposal, compliance
from shared.calendar import business_date
from shared.errors import Conflict, InvalidInput, NotFound
from sync.protocol import AgreementData, InstallmentData

MAX_NOTE: Final = 2000
MAX_PAGE: Final = 1000
Status = Literal["proposed", "active", "rejected", "cancelled"]
StandingName = Literal["proposed", "on_track", "broken", "completed"]
# The order a supervisor works in: proposals to decide, then broken agreements, then the rest.
_ORDER: Final = {"proposed": 0, "broken": 1, "on_track": 2, "completed": 3, None: 4}
_CLOSED_ORDER: Final = {"rejected": 0, "cancelled": 1}  # closed ones: never approved first


class InstallmentView(BaseModel):
    seq: int
    due_date: date
    amount: Decimal
    paid: Decimal
    status: str  # shared.agreements.InstallmentStatus


class AgreementClient(BaseModel):
    id: uuid.UUID
    code: str
    name: str


class AgreementView(BaseModel):
    id: uuid.UUID
    client: AgreementClient
    collector: str | None
    origin: str
    status: Status
    # Derived at `as_of`: `proposed` while it waits for the office, the compliance of an active
    # one, none once rejected or cancelled.
    standing: StandingName | None
    as_of: date
    total: Decimal
    paid: Decimal  # the money counted since the start (may exceed the total)
    missed: int  # installments past due and grace, not covered
    notes: str
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    installments: list[InstallmentView]


class AgreementPage(BaseModel):
    items: list[AgreementView]
    total: int  # matching the filters (before `limit`)
    as_of: date


def starts_on(proposed_at: datetime, tz: tzinfo) -> date:
    """The business day from which the client's payments count towards the agreement."""
    return business_date(proposed_at, tz)


def compliance_of(
    schedule: Sequence[tuple[date, Decimal]],
    start: date,
    payments: Sequence[tuple[date, Decimal]],
    as_of: date,
) -> Compliance:
    return compliance(
        [Installment(d, a) for d, a in schedule],
        start,
        [PaymentOn(d, a) for d, a in payments],
        as_of,
    )


def standing_of(status: str, result: Compliance) -> StandingName | None:
    if status == "proposed":
        return "proposed"
    if status == "active":
        return result.standing.value
    return None


def for_phones(
    session: Session, client_ids: Sequence[uuid.UUID], *, tz: tzinfo, as_of: date
) -> dict[uuid.UUID, list[AgreementData]]:
    """The proposed and active agreements of a pull page's clients as the phone shows them, with
    each installment's paid amount and status at `as_of` (one query for the agreements and their
    installments, one for the payments when there are any agreements)."""
    found: dict[uuid.UUID, list[AgreementData]] = defaultdict(list)
    rows = repo.open_of_clients(session, client_ids)
    if not rows:
        return found
    heads: dict[uuid.UUID, tuple[uuid.UUID, str, date]] = {}
    schedules: dict[uuid.UUID, list[tuple[date, Decimal]]] = defaultdict(list)
    for client_id, agreement_id, status, proposed_at, due, amount in rows:
        heads.setdefault(agreement_id, (client_id, status, starts_on(proposed_at, tz)))
        schedules[agreement_id].append((due, amount))
    paid = repo.payments_since(
        session, {h[0] for h in heads.values()}, min(h[2] for h in heads.values())
    )
    for agreement_id, (client_id, status, start) in heads.items():
        result = compliance_of(schedules[agreement_id], start, paid.get(client_id, []), as_of)
        found[client_id].append(
            AgreementData(
                id=agreement_id,
                standing=standing_of(status, result) or "proposed",
                total=result.total,
                installments=tuple(
                    InstallmentData(
                        due_date=i.due_date, amount=i.amount, paid=i.paid, status=i.status.value
                    )
                    for i in result.installments
                ),
            )
        )
    return found


def _views(
    session: Session, rows: Sequence[AgreementRow], *, tz: tzinfo, as_of: date
) -> list[AgreementView]:
    starts = {row.agreement.id: starts_on(row.agreement.proposed_at, tz) for row in rows}
    paid = repo.payments_since(
        session, {row.agreement.client_id for row in rows}, min(starts.values(), default=as_of)
    )
    views = []
    for row in rows:
        a = row.agreement
        result = compliance_of(row.installments, starts[a.id], paid.get(a.client_id, []), as_of)
        views.append(
            AgreementView(
                id=a.id,
                client=AgreementClient(id=a.client_id, code=row.client_code, name=row.client_name),
                collector=row.collector,
                origin=a.origin,
                status=a.status,  # type: ignore[arg-type]  # checked by the table
                standing=standing_of(a.status, result),
                as_of=as_of,
                total=a.total,
                paid=result.paid,
                missed=result.missed,
                notes=a.notes,
                proposed_by=row.proposed_by,
                proposed_at=a.proposed_at,
                decided_by=row.decided_by,
                decided_at=a.decided_at,
                decision_note=a.decision_note,
                installments=[
                    InstallmentView(
                        seq=n, due_date=i.due_date, amount=i.amount, paid=i.paid, status=i.status
                    )
                    for n, i in enumerate(result.installments, start=1)
                ],
            )
        )
    return views


def list_agreements(
    session: Session,
    actor: Actor,
    *,
    tz: tzinfo,
    as_of: date,
    statuses: Collection[str] | None = None,
    standing: str | None = None,
    collector: str | None = None,
    client_id: uuid.UUID | None = None,
    limit: int = 200,
) -> AgreementPage:
    """The agreements `actor` may see (a collector: their own clients', whatever `collector`
    says), proposals first (oldest first), then broken, on track, completed, then closed ones."""
    rows = repo.agreements(
        session,
        statuses=statuses,
        collector_id=None if actor.is_office else actor.user_id,
        collector_username=collector if actor.is_office and collector else None,
        client_id=client_id,
    )
    views = _views(session, rows, tz=tz, as_of=as_of)
    if standing is not None:
        views = [v for v in views if v.standing == standing]
    # stable: oldest proposal first within a group
    views.sort(key=lambda v: (_ORDER[v.standing], _CLOSED_ORDER.get(v.status, 0)))
    return AgreementPage(items=views[:limit], total=len(views), as_of=as_of)


def get_agreement(
    session: Session, actor: Actor, agreement_id: uuid.UUID, *, tz: tzinfo, as_of: date
) -> AgreementView:
    rows = repo.agreements(session, ids=[agreement_id])
    if not rows or not _visible(actor, rows[0]):
        raise NotFound("no such agreement", code="agreement_not_found")
    return _views(session, rows, tz=tz, as_of=as_of)[0]


def _visible(actor: Actor, row: AgreementRow) -> bool:
    return actor.is_office or (actor.role == "collector" and row.collector_id == actor.user_id)


def create(
    session: Session,
    actor: Actor,
    client_id: uuid.UUID,
    *,
    installments: Sequence[tuple[date, Decimal]],
    notes: str,
    now: datetime,
    tz: tzinfo,
) -> AgreementView:
    """An office agreement: active at once, its payments counted from today. 404
    `client_not_found`; 409 `client_closed`, `agreement_already_active`; 422 `agreement_invalid`."""
    require_office(actor)
    client = repo.lock_client(session, client_id)
    if client is None:
        raise NotFound("no such client", code="client_not_found")
    if client.status != "active":
        raise Conflict("the client is closed", code="client_closed")
    today = business_date(now, tz)
    total = check_proposal([Installment(d, a) for d, a in installments], today)
    _no_other_active(session, client_id, None)
    agreement = PaymentAgreement(
        id=uuid.uuid4(),
        client_id=client_id,
        origin="office",
        event_id=None,
        status="active",
        total=total,
        notes=notes,
        proposed_by=actor.user_id,
        proposed_at=now,
        decided_by=actor.user_id,
        decided_at=now,
        decision_note="",
    )
    session.add(agreement)
    session.flush()
    repo.add_installments(session, agreement.id, installments)
    _audit(session, actor, agreement, "agreement.create", now, {"total": str(total)})
    changes.clients_changed(session, [client_id])
    return get_agreement(session, actor, agreement.id, tz=tz, as_of=today)


def approve(
    session: Session, actor: Actor, agreement_id: uuid.UUID, *, note: str, now: datetime, tz: tzinfo
) -> AgreementView:
    """A proposal becomes active. 404 `agreement_not_found`; 409 `agreement_not_proposed`,
    `agreement_already_active` (the client has another active agreement: cancel it first)."""
    agreement = _decide(session, actor, agreement_id, "active", note=note, now=now)
    return get_agreement(session, actor, agreement.id, tz=tz, as_of=business_date(now, tz))


def reject(
    session: Session, actor: Actor, agreement_id: uuid.UUID, *, note: str, now: datetime, tz: tzinfo
) -> AgreementView:
    """A proposal is turned down, with the reason in `note` (422 `note_required`)."""
    if not note.strip():
        raise InvalidInput("rejecting a proposal needs a note saying why", code="note_required")
    agreement = _decide(session, actor, agreement_id, "rejected", note=note, now=now)
    return get_agreement(session, actor, agreement.id, tz=tz, as_of=business_date(now, tz))


def cancel(
    session: Session, actor: Actor, agreement_id: uuid.UUID, *, note: str, now: datetime, tz: tzinfo
) -> AgreementView:
    """An active (or still proposed) agreement ends: it no longer shows on the phone. 409
    `agreement_closed` if it was already rejected or cancelled."""
    agreement = _decide(session, actor, agreement_id, "cancelled", note=note, now=now)
    return get_agreement(session, actor, agreement.id, tz=tz, as_of=business_date(now, tz))


def _decide(
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    new_status: Status,
    *,
    note: str,
    now: datetime,
) -> PaymentAgreement:
    require_office(actor)
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"the note is longer than {MAX_NOTE} characters", code="note_too_long")
    found = session.get(PaymentAgreement, agreement_id)
    if found is None:
        raise NotFound("no such agreement", code="agreement_not_found")
    repo.lock_client(session, found.client_id)  # lock order: the client, then its agreement
    agreement = repo.lock_agreement(session, agreement_id)
    assert agreement is not None  # agreements are never deleted
    session.refresh(agreement)
    old = agreement.status
    if new_status == "cancelled":
        if old not in repo.OPEN_STATUSES:
            raise Conflict(f"the agreement is already {old}", code="agreement_closed")
    elif old != "proposed":
        raise Conflict(f"the agreement is {old}, not proposed", code="agreement_not_proposed")
    if new_status == "active":
        _no_other_active(session, agreement.client_id, agreement.id)
    agreement.status = new_status
    agreement.decided_by = actor.user_id
    agreement.decided_at = now
    agreement.decision_note = note
    action = {"active": "agreement.approve", "rejected": "agreement.reject"}.get(
        new_status, "agreement.cancel"
    )
    _audit(session, actor, agreement, action, now, {"from": old, "note": note})
    changes.clients_changed(session, [agreement.client_id])
    return agreement


def _no_other_active(
    session: Session, client_id: uuid.UUID, agreement_id: uuid.UUID | None
) -> None:
    other = repo.active_of_client(session, client_id, other_than=agreement_id)
    if other is not None:
        raise Conflict(
            "the client already has an active agreement: cancel it first",
            code="agreement_already_active",
            details={"agreement_id": str(other)},
        )


def _audit(
    session: Session,
    actor: Actor,
    agreement: PaymentAgreement,
    action: str,
    now: datetime,
    details: dict[str, str],
) -> None:
    audit_repo.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action=action,
        entity="payment_agreement",
        entity_id=agreement.id,
        details={"client_id": str(agreement.client_id), **details},
    )
    session.flush()
