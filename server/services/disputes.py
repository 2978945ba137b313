"""Disputes and returns (glosas y devoluciones) in the office: open one on a client's invoice,
list them, and decide each once: accepted (a credit note for the accepted amount, the rest stays
due) or rejected (the invoice stays due). Disputes from the phone arrive through the push
(server/services/field_disputes.py) and are decided here alike.

An open dispute does not change the debt: aging shows it apart ("en glosa") until it is decided.
Every decision writes an audit row and, last in the transaction, a new put of the client for its
collector's phone. Office only; never commits.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Final, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from server.db.models import Dispute
from server.repositories import audit as audit_repo
from server.repositories import disputes as disputes_repo
from server.services import changes, credit_notes
from server.services.access import Actor, require_office
from server.services.clients import visible_client
from server.services.credit_notes import CreditNoteOut
from shared.errors import Conflict, InvalidInput, NotFound
from shared.kpis import DisputeKpis
from shared.money import ZERO, money
from sync.protocol import DISPUTE_REASONS

DisputeStatus = Literal["open", "accepted", "rejected"]
STATUSES: Final = ("open", "accepted", "rejected")
KINDS: Final = ("dispute", "return")
MAX_NOTE = 2000
MAX_PAGE = 500


class DisputeClient(BaseModel):
    id: uuid.UUID
    code: str
    name: str


class DisputeOut(BaseModel):
    id: uuid.UUID
    client: DisputeClient
    collector: str | None
    invoice_number: str
    invoice_known: bool  # False: no invoice of that number for the client (held for review)
    invoice_balance: Decimal | None
    invoice_due_date: date | None
    kind: str
    amount: Decimal
    reason_code: str
    notes: str
    origin: str  # office | field
    status: str
    opened_by: str
    opened_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    accepted_amount: Decimal | None
    credit_notes: list[CreditNoteOut] = []


class DisputePage(BaseModel):
    items: list[DisputeOut]
    total: int
    limit: int
    offset: int


def _out(r: disputes_repo.DisputeRow, notes: list[CreditNoteOut] | None = None) -> DisputeOut:
    d = r.dispute
    return DisputeOut(
        id=d.id,
        client=DisputeClient(id=d.client_id, code=r.client_code, name=r.client_name),
        collector=r.collector,
        invoice_number=d.invoice_number,
        invoice_known=d.invoice_id is not None,
        invoice_balance=r.invoice_balance,
        invoice_due_date=r.invoice_due,
        kind=d.kind,
        amount=d.amount,
        reason_code=d.reason_code,
        notes=d.notes,
        origin=d.origin,
        status=d.status,
        opened_by=r.opened_by,
        opened_at=d.opened_at,
        decided_by=r.decided_by,
        decided_at=d.decided_at,
        decision_note=d.decision_note,
        accepted_amount=d.accepted_amount,
        credit_notes=notes or [],
    )


def open_dispute(
    session: Session,
    actor: Actor,
    client_id: uuid.UUID,
    *,
    invoice_number: str,
    amount: Decimal,
    kind: str = "dispute",
    reason_code: str,
    notes: str = "",
    now: datetime,
) -> DisputeOut:
    """The office opens a dispute on one of the client's invoices. 404 `client_not_found`; 422
    `invoice_not_found`, `invalid_amount`, `dispute_exceeds_balance` (more than the invoice's
    balance not already in open disputes), `invalid_reason_code`, `invalid_kind`."""
    require_office(actor)
    client, _ = visible_client(session, actor, client_id)
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", code="invalid_kind")
    if reason_code not in DISPUTE_REASONS:
        raise InvalidInput(
            f"unknown reason code {reason_code!r}",
            code="invalid_reason_code",
            details={"allowed": list(DISPUTE_REASONS)},
        )
    amount = money(amount)
    if amount <= ZERO:
        raise InvalidInput("a dispute is for a positive amount", code="invalid_amount")
    _check_note(notes)
    invoice = disputes_repo.invoice_of_client(session, client.id, invoice_number.strip())
    if invoice is None:
        raise InvalidInput(
            f"the client has no invoice {invoice_number!r}", code="invoice_not_found"
        )
    if amount > invoice.balance - invoice.disputed:
        raise InvalidInput(
            "the dispute is for more than the invoice's balance not already in dispute",
            code="dispute_exceeds_balance",
            details={"open_balance": str(invoice.balance - invoice.disputed)},
        )
    dispute = Dispute(
        client_id=client.id,
        invoice_id=invoice.id,
        invoice_number=invoice_number.strip(),
        kind=kind,
        amount=amount,
        reason_code=reason_code,
        notes=notes,
        origin="office",
        event_id=None,
        status="open",
        opened_by=actor.user_id,
        opened_at=now,
        decision_note="",
    )
    session.add(dispute)
    session.flush()
    _audit(session, actor, dispute, "dispute.open", now, amount=str(amount))
    changes.clients_changed(session, [client.id])
    return get_dispute(session, actor, dispute.id)


def list_disputes(
    session: Session,
    actor: Actor,
    *,
    status: str | None = "open",
    collector: str | None = None,
    client_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> DisputePage:
    """Oldest first; open ones unless `status` says otherwise (None: all)."""
    require_office(actor)
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown dispute status {status!r}", code="invalid_status")
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    f = disputes_repo.Filters(status=status, collector=collector, client_id=client_id)
    rows = disputes_repo.disputes(session, f, limit=limit, offset=offset)
    return DisputePage(
        items=[_out(r) for r in rows],
        total=disputes_repo.count(session, f),
        limit=limit,
        offset=offset,
    )


def get_dispute(session: Session, actor: Actor, dispute_id: uuid.UUID) -> DisputeOut:
    require_office(actor)
    row = disputes_repo.dispute(session, dispute_id)
    if row is None:
        raise NotFound("no such dispute", code="dispute_not_found")
    return _out(row, credit_notes.notes_of(session, dispute_id=dispute_id))


def accept(
    session: Session,
    actor: Actor,
    dispute_id: uuid.UUID,
    *,
    accepted_amount: Decimal | None = None,
    note: str = "",
    today: date,
    now: datetime,
) -> DisputeOut:
    """Accept the dispute for `accepted_amount` (the whole amount by default): a credit note of
    that amount on the invoice, approved by `actor`, dated `today`; the rest stays due.
    404 `dispute_not_found`; 409 `dispute_decided`; 422 `invalid_accepted_amount` (not in
    0 < accepted <= amount), `invoice_unknown` (no invoice to credit: reject it and open it on
    the right one), `dispute_exceeds_balance` (more than the invoice still owes)."""
    require_office(actor)
    _check_note(note)
    dispute = _undecided(session, dispute_id)
    accepted = dispute.amount if accepted_amount is None else money(accepted_amount)
    if not ZERO < accepted <= dispute.amount:
        raise InvalidInput(
            "the accepted amount must be positive and at most the disputed amount",
            code="invalid_accepted_amount",
            details={"amount": str(dispute.amount)},
        )
    if dispute.invoice_id is None:
        raise InvalidInput(
            f"there is no invoice {dispute.invoice_number!r} of this client to credit",
            code="invoice_unknown",
        )
    invoice = disputes_repo.invoice_of_client(session, dispute.client_id, dispute.invoice_number)
    if invoice is None or accepted > invoice.balance:
        raise InvalidInput(
            "the invoice owes less than the accepted amount",
            code="dispute_exceeds_balance",
            details={"invoice_balance": None if invoice is None else str(invoice.balance)},
        )
    label = "Devolución" if dispute.kind == "return" else "Glosa"
    credit = credit_notes.post_note(
        session,
        actor,
        client_id=dispute.client_id,
        invoice_id=dispute.invoice_id,
        ledger_amount=-accepted,
        kind="credit_note",
        reason_code=dispute.reason_code,
        reason=f"{label} aceptada, factura {dispute.invoice_number}"
        + (f": {note.strip()}" if note.strip() else ""),
        effective_date=today,
        now=now,
        dispute_id=dispute.id,
    )
    _decide(dispute, actor, "accepted", note, now, accepted)
    _audit(
        session,
        actor,
        dispute,
        "dispute.accept",
        now,
        accepted_amount=str(accepted),
        credit_note_id=str(credit.id),
        entry_id=str(credit.entry_id),
    )
    changes.clients_changed(session, [dispute.client_id])
    return get_dispute(session, actor, dispute.id)


def reject(
    session: Session, actor: Actor, dispute_id: uuid.UUID, *, note: str, now: datetime
) -> DisputeOut:
    """Reject the dispute: the invoice stays due. The note saying why is required.
    404 `dispute_not_found`; 409 `dispute_decided`; 422 `note_required`."""
    require_office(actor)
    _check_note(note)
    if not note.strip():
        raise InvalidInput("say why the dispute is rejected", code="note_required")
    dispute = _undecided(session, dispute_id)
    _decide(dispute, actor, "rejected", note, now, None)
    _audit(session, actor, dispute, "dispute.reject", now)
    changes.clients_changed(session, [dispute.client_id])
    return get_dispute(session, actor, dispute.id)


def _undecided(session: Session, dispute_id: uuid.UUID) -> Dispute:
    dispute = disputes_repo.lock_dispute(session, dispute_id)
    if dispute is None:
        raise NotFound("no such dispute", code="dispute_not_found")
    if dispute.status != "open":
        raise Conflict(
            f"the dispute was already {dispute.status}",
            code="dispute_decided",
            details={"status": dispute.status},
        )
    return dispute


def _decide(
    dispute: Dispute,
    actor: Actor,
    status: DisputeStatus,
    note: str,
    now: datetime,
    accepted: Decimal | None,
) -> None:
    dispute.status = status
    dispute.decided_by = actor.user_id
    dispute.decided_at = now
    dispute.decision_note = note.strip()
    dispute.accepted_amount = accepted


def _check_note(note: str) -> None:
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"the note is longer than {MAX_NOTE} characters", code="note_too_long")


def _audit(
    session: Session, actor: Actor, dispute: Dispute, action: str, now: datetime, **details: str
) -> None:
    audit_repo.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action=action,
        entity="dispute",
        entity_id=dispute.id,
        details={
            "client_id": str(dispute.client_id),
            "invoice_number": dispute.invoice_number,
            "amount": str(dispute.amount),
            "note": dispute.decision_note,
            **details,
        },
    )
    session.flush()


def kpis(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    collector: str | None = None,
    segment: str | None = None,
) -> DisputeKpis:
    """The disputed value at `end` and the disputes opened and decided in `start`..`end`, for
    the clients of the scope (their current collector and segment). One query."""
    c = disputes_repo.period_counts(session, start, end, collector=collector, segment=segment)
    return DisputeKpis(
        open_at_end=c.open_count,
        disputed_value=c.open_value,
        opened=c.opened,
        opened_value=c.opened_value,
        accepted=c.accepted,
        accepted_value=c.accepted_value,
        rejected=c.rejected,
    )
