"""Credit notes and adjustments decided in the office (an accepted dispute, the notes of a
reconciliation): each posts one ledger adjustment (server/services/ledger.post_adjustment, source
`manual`) and a `credit_note` row saying why (reason code and text) and who approved it. The
ledger stays append-only: a note is undone by another note, never by editing this one.

Never commits; the callers check the actor's role and write the audit row of their decision."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Final, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from server.db.models import CreditNote
from server.repositories import credit_notes as notes_repo
from server.services import ledger
from server.services.access import Actor
from shared.errors import InvalidInput
from shared.money import MAX_AMOUNT
from sync.protocol import DISPUTE_REASONS

NoteKind = Literal["credit_note", "adjustment"]
# The glosa concept groups, and what a reconciliation finds besides them.
RECONCILIATION_REASONS: Final = (
    "reconciliation",
    "payment_not_recorded",
    "duplicate_charge",
    "rounding",
)
REASON_CODES: Final[tuple[str, ...]] = (*DISPUTE_REASONS, *RECONCILIATION_REASONS)
MAX_REASON = 2000


class CreditNoteOut(BaseModel):
    id: int
    kind: str
    amount: Decimal  # what it did to the debt: negative lowers it
    effective_date: date
    invoice_number: str | None
    reason_code: str
    reason: str
    approved_by: str
    approved_at: datetime
    entry_id: uuid.UUID
    dispute_id: uuid.UUID | None
    reconciliation_id: uuid.UUID | None


def check_reason(reason_code: str, reason: str) -> None:
    if reason_code not in REASON_CODES:
        raise InvalidInput(
            f"unknown reason code {reason_code!r}",
            code="invalid_reason_code",
            details={"allowed": list(REASON_CODES)},
        )
    if not reason.strip():
        raise InvalidInput("a credit note or adjustment needs a reason", code="reason_required")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is longer than {MAX_REASON} characters", code="too_long")


def post_note(
    session: Session,
    actor: Actor,
    *,
    client_id: uuid.UUID,
    invoice_id: uuid.UUID | None,
    ledger_amount: Decimal,
    kind: NoteKind,
    reason_code: str,
    reason: str,
    effective_date: date,
    now: datetime,
    dispute_id: uuid.UUID | None = None,
    reconciliation_id: uuid.UUID | None = None,
) -> CreditNote:
    """Post `ledger_amount` (signed: a credit note is negative) on the invoice (or the client's
    account) and record the note approved by `actor`."""
    check_reason(reason_code, reason)
    if kind == "credit_note" and ledger_amount >= 0:
        raise InvalidInput("a credit note lowers the debt", code="invalid_amount")
    if abs(ledger_amount) > MAX_AMOUNT:
        raise InvalidInput("the amount is out of range", code="amount_out_of_range")
    entry = ledger.post_adjustment(
        session,
        client_id=client_id,
        invoice_id=invoice_id,
        amount=ledger_amount,
        effective_date=effective_date,
        reason=reason,
        source="manual",
        created_by=actor.user_id,
    )
    note = CreditNote(
        entry_id=entry.id,
        client_id=client_id,
        kind=kind,
        reason_code=reason_code,
        reason=reason,
        approved_by=actor.user_id,
        approved_at=now,
        dispute_id=dispute_id,
        reconciliation_id=reconciliation_id,
    )
    session.add(note)
    session.flush()
    return note


def notes_of(
    session: Session,
    *,
    dispute_id: uuid.UUID | None = None,
    reconciliation_id: uuid.UUID | None = None,
) -> list[CreditNoteOut]:
    return [
        CreditNoteOut(**vars(r))
        for r in notes_repo.notes(
            session, dispute_id=dispute_id, reconciliation_id=reconciliation_id
        )
    ]
