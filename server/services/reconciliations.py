"""Reconciliations with clients (conciliaciones): scheduled for a date (the agenda), then recorded
once: the client's statement balance next to ours at `as_of` (rebuilt from the ledger by the
statement service, so a late entry dated before `as_of` is counted), the differences found, and
the notes applied to settle them (credit notes and adjustments, each a ledger adjustment with a
reason code, a reason and the caller as approver, server/services/credit_notes.py).

Office only; never commits. Recording writes an audit row and, last, a new put of the client for
its collector's phone (its balance may have moved).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from server.db.models import Reconciliation, ReconciliationItem
from server.repositories import audit as audit_repo
from server.repositories import disputes as disputes_repo
from server.repositories import reconciliations as recon_repo
from server.services import changes, credit_notes, statements
from server.services.access import Actor, require_office
from server.services.clients import visible_client
from server.services.credit_notes import CreditNoteOut, NoteKind
from shared.clients import MoneyStr
from shared.errors import Conflict, InvalidInput, NotFound
from shared.money import ZERO

Resolution = Literal["credit_note", "adjustment", "client_to_pay", "client_to_support", "none"]
STATUSES: Final = ("scheduled", "done", "cancelled")
MAX_TEXT = 2000
MAX_ITEMS = 200
MAX_PAGE = 500


class ItemIn(BaseModel):
    """A difference between the two statements and what was done about it."""

    invoice_number: Annotated[str, Field(max_length=64)] = ""
    description: Annotated[str, Field(max_length=MAX_TEXT)] = ""
    our_amount: MoneyStr | None = None
    their_amount: MoneyStr | None = None
    resolution: Resolution = "none"


class NoteIn(BaseModel):
    """A note to apply: a credit note lowers the debt by `amount` (positive); an adjustment moves
    it by `amount` as signed (negative lowers it). On an invoice of the client, or on its
    account when `invoice_number` is empty. `item`: the index of the item it settles."""

    kind: NoteKind
    invoice_number: Annotated[str, Field(max_length=64)] = ""
    amount: MoneyStr
    reason_code: Annotated[str, Field(min_length=1, max_length=32)]
    reason: Annotated[str, Field(max_length=MAX_TEXT)]
    item: Annotated[int | None, Field(ge=0, lt=MAX_ITEMS)] = None


class ItemOut(BaseModel):
    invoice_number: str
    description: str
    our_amount: Decimal | None
    their_amount: Decimal | None
    resolution: str
    credit_note_id: int | None


class ReconciliationClient(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    tax_id: str


class ReconciliationOut(BaseModel):
    id: uuid.UUID
    client: ReconciliationClient
    collector: str | None
    status: str
    scheduled_for: date | None
    as_of: date | None
    our_balance: Decimal | None = Field(description="our ledger's balance at as_of")
    client_balance: Decimal | None = Field(description="the balance on the client's statement")
    difference: Decimal | None = Field(description="ours - theirs, before the notes")
    notes_total: Decimal = Field(description="what the notes applied moved (negative lowers)")
    adjusted_balance: Decimal | None = Field(description="ours after the notes")
    remaining_difference: Decimal | None = Field(description="adjusted - theirs")
    statement_ref: str
    notes: str
    created_by: str
    created_at: datetime
    completed_by: str | None
    completed_at: datetime | None
    items: list[ItemOut] = []
    credit_notes: list[CreditNoteOut] = []


class ReconciliationPage(BaseModel):
    items: list[ReconciliationOut]
    total: int
    limit: int
    offset: int


def _out(
    r: recon_repo.ReconciliationRow,
    items: list[ItemOut] | None = None,
    notes: list[CreditNoteOut] | None = None,
) -> ReconciliationOut:
    rec = r.reconciliation
    notes = notes or []
    moved = sum((n.amount for n in notes), ZERO)
    ours, theirs = rec.our_balance, rec.client_balance
    adjusted = None if ours is None else ours + moved
    return ReconciliationOut(
        id=rec.id,
        client=ReconciliationClient(
            id=rec.client_id, code=r.client_code, name=r.client_name, tax_id=r.client_tax_id
        ),
        collector=r.collector,
        status=rec.status,
        scheduled_for=rec.scheduled_for,
        as_of=rec.as_of,
        our_balance=ours,
        client_balance=theirs,
        difference=None if ours is None or theirs is None else ours - theirs,
        notes_total=moved,
        adjusted_balance=adjusted,
        remaining_difference=None if adjusted is None or theirs is None else adjusted - theirs,
        statement_ref=rec.statement_ref,
        notes=rec.notes,
        created_by=r.created_by,
        created_at=rec.created_at,
        completed_by=r.completed_by,
        completed_at=rec.completed_at,
        items=items or [],
        credit_notes=notes,
    )


def schedule(
    session: Session,
    actor: Actor,
    client_id: uuid.UUID,
    *,
    scheduled_for: date,
    notes: str = "",
    now: datetime,
) -> ReconciliationOut:
    """Put a reconciliation with the client on the agenda. 404 `client_not_found`."""
    require_office(actor)
    client, _ = visible_client(session, actor, client_id)
    _check_text(notes)
    rec = Reconciliation(
        client_id=client.id,
        status="scheduled",
        scheduled_for=scheduled_for,
        notes=notes,
        statement_ref="",
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(rec)
    session.flush()
    _audit(session, actor, rec, "reconciliation.schedule", now, scheduled_for=str(scheduled_for))
    return get_reconciliation(session, actor, rec.id)


def agenda(
    session: Session,
    actor: Actor,
    *,
    status: str | None = "scheduled",
    start: date | None = None,
    end: date | None = None,
    client_id: uuid.UUID | None = None,
    collector: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> ReconciliationPage:
    """Reconciliations by scheduled date (soonest first): the upcoming ones by default."""
    require_office(actor)
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}", code="invalid_status")
    if start is not None and end is not None and end < start:
        raise InvalidInput("the range ends before it starts", code="invalid_period")
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    f = recon_repo.Filters(
        status=status, start=start, end=end, client_id=client_id, collector=collector
    )
    return ReconciliationPage(
        items=[_out(r) for r in recon_repo.reconciliations(session, f, limit=limit, offset=offset)],
        total=recon_repo.count(session, f),
        limit=limit,
        offset=offset,
    )


def get_reconciliation(
    session: Session, actor: Actor, reconciliation_id: uuid.UUID
) -> ReconciliationOut:
    require_office(actor)
    row = recon_repo.reconciliation(session, reconciliation_id)
    if row is None:
        raise NotFound("no such reconciliation", code="reconciliation_not_found")
    items = [
        ItemOut(
            invoice_number=i.invoice_number,
            description=i.description,
            our_amount=i.our_amount,
            their_amount=i.their_amount,
            resolution=i.resolution,
            credit_note_id=i.credit_note_id,
        )
        for i in recon_repo.items_of(session, reconciliation_id)
    ]
    notes = credit_notes.notes_of(session, reconciliation_id=reconciliation_id)
    return _out(row, items, notes)


def complete(
    session: Session,
    actor: Actor,
    reconciliation_id: uuid.UUID,
    *,
    as_of: date,
    client_balance: Decimal,
    statement_ref: str = "",
    items: list[ItemIn] | None = None,
    notes_to_apply: list[NoteIn] | None = None,
    remarks: str = "",
    today: date,
    now: datetime,
) -> ReconciliationOut:
    """Record the reconciliation: our balance at `as_of` from the ledger, theirs as given, the
    differences, and the notes applied (dated `today`, approved by `actor`). Once.
    404 `reconciliation_not_found`; 409 `reconciliation_closed` (done or cancelled); 422
    `invalid_as_of` (after today), `invoice_not_found`, `invalid_amount`,
    `note_exceeds_balance` (a credit note for more than the invoice owes), `invalid_item`,
    `invalid_reason_code`, `reason_required`, `too_many_items`."""
    require_office(actor)
    items, notes_to_apply = items or [], notes_to_apply or []
    rec = recon_repo.lock(session, reconciliation_id)
    if rec is None:
        raise NotFound("no such reconciliation", code="reconciliation_not_found")
    if rec.status != "scheduled":
        raise Conflict(
            f"the reconciliation is already {rec.status}",
            code="reconciliation_closed",
            details={"status": rec.status},
        )
    if as_of > today:
        raise InvalidInput("a reconciliation is of a date already passed", code="invalid_as_of")
    if len(items) > MAX_ITEMS or len(notes_to_apply) > MAX_ITEMS:
        raise InvalidInput(f"at most {MAX_ITEMS} items and notes", code="too_many_items")
    _check_text(remarks, statement_ref)
    our_balance = statements.client_statement(session, actor, rec.client_id, as_of=as_of).balance
    pending: dict[uuid.UUID, Decimal] = {}  # what earlier notes of this call move per invoice
    planned = [_planned(session, rec.client_id, n, len(items), pending) for n in notes_to_apply]
    rows = [
        ReconciliationItem(
            reconciliation_id=rec.id,
            invoice_number=i.invoice_number.strip(),
            description=i.description,
            our_amount=i.our_amount,
            their_amount=i.their_amount,
            resolution=i.resolution,
        )
        for i in items
    ]
    for n, (invoice_id, ledger_amount) in zip(notes_to_apply, planned, strict=True):
        note = credit_notes.post_note(
            session,
            actor,
            client_id=rec.client_id,
            invoice_id=invoice_id,
            ledger_amount=ledger_amount,
            kind=n.kind,
            reason_code=n.reason_code,
            reason=n.reason,
            effective_date=today,
            now=now,
            reconciliation_id=rec.id,
        )
        if n.item is not None:
            rows[n.item].credit_note_id = note.id
    session.add_all(rows)
    rec.status = "done"
    rec.as_of = as_of
    rec.our_balance = our_balance
    rec.client_balance = client_balance
    rec.statement_ref = statement_ref.strip()
    if remarks.strip():
        rec.notes = remarks.strip()
    rec.completed_by = actor.user_id
    rec.completed_at = now
    session.flush()
    _audit(
        session,
        actor,
        rec,
        "reconciliation.complete",
        now,
        as_of=str(as_of),
        our_balance=str(our_balance),
        client_balance=str(client_balance),
        notes=str(len(planned)),
    )
    changes.clients_changed(session, [rec.client_id])
    return get_reconciliation(session, actor, rec.id)


def _planned(
    session: Session,
    client_id: uuid.UUID,
    note: NoteIn,
    item_count: int,
    pending: dict[uuid.UUID, Decimal],
) -> tuple[uuid.UUID | None, Decimal]:
    """Where a note posts and its signed ledger amount, checked before anything is posted."""
    credit_notes.check_reason(note.reason_code, note.reason)
    if note.item is not None and note.item >= item_count:
        raise InvalidInput(f"no item {note.item} to settle", code="invalid_item")
    if note.amount == ZERO or (note.kind == "credit_note" and note.amount < ZERO):
        raise InvalidInput(
            "a credit note is a positive amount; an adjustment is not zero", code="invalid_amount"
        )
    ledger_amount = -note.amount if note.kind == "credit_note" else note.amount
    number = note.invoice_number.strip()
    if not number:
        return None, ledger_amount
    invoice = disputes_repo.invoice_of_client(session, client_id, number)
    if invoice is None:
        raise InvalidInput(f"the client has no invoice {number!r}", code="invoice_not_found")
    owed = invoice.balance + pending.get(invoice.id, ZERO)
    if owed + ledger_amount < ZERO:
        raise InvalidInput(
            f"invoice {number} owes {owed}: the note would leave it below zero",
            code="note_exceeds_balance",
        )
    pending[invoice.id] = pending.get(invoice.id, ZERO) + ledger_amount
    return invoice.id, ledger_amount


def _check_text(*texts: str) -> None:
    if any(len(t) > MAX_TEXT for t in texts):
        raise InvalidInput(f"a text is longer than {MAX_TEXT} characters", code="too_long")


def _audit(
    session: Session,
    actor: Actor,
    rec: Reconciliation,
    action: str,
    now: datetime,
    **details: str,
) -> None:
    audit_repo.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action=action,
        entity="reconciliation",
        entity_id=rec.id,
        details={"client_id": str(rec.client_id), **details},
    )
    session.flush()
