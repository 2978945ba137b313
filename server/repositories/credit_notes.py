"""Queries of credit notes: the notes of a dispute or a reconciliation, with the ledger entry
each one posted (its signed amount, its invoice) and who approved it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.db.models import CreditNote, Invoice, LedgerAllocation, LedgerEntry, User


@dataclass(frozen=True)
class NoteRow:
    id: int
    kind: str
    amount: Decimal  # the ledger entry's signed amount (negative lowers the debt)
    effective_date: date
    invoice_number: str | None
    reason_code: str
    reason: str
    approved_by: str
    approved_at: datetime
    entry_id: uuid.UUID
    dispute_id: uuid.UUID | None
    reconciliation_id: uuid.UUID | None


def notes(
    session: Session,
    *,
    dispute_id: uuid.UUID | None = None,
    reconciliation_id: uuid.UUID | None = None,
) -> list[NoteRow]:
    """The notes of one dispute or one reconciliation, in the order they were approved."""
    stmt: Select[*tuple[Any, ...]] = (
        select(
            CreditNote.id,
            CreditNote.kind,
            LedgerEntry.amount,
            LedgerEntry.effective_date,
            Invoice.number,
            CreditNote.reason_code,
            CreditNote.reason,
            User.username,
            CreditNote.approved_at,
            CreditNote.entry_id,
            CreditNote.dispute_id,
            CreditNote.reconciliation_id,
        )
        .join(LedgerEntry, LedgerEntry.id == CreditNote.entry_id)
        .join(LedgerAllocation, LedgerAllocation.entry_id == LedgerEntry.id)
        .outerjoin(Invoice, Invoice.id == LedgerAllocation.invoice_id)
        .join(User, User.id == CreditNote.approved_by)
        .order_by(CreditNote.id)
    )
    if dispute_id is not None:
        stmt = stmt.where(CreditNote.dispute_id == dispute_id)
    if reconciliation_id is not None:
        stmt = stmt.where(CreditNote.reconciliation_id == reconciliation_id)
    return [NoteRow(*row) for row in session.execute(stmt).all()]
