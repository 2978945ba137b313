"""Ledger use cases: every movement of money goes through here. Never commits (the caller does)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from server.db.models import Client, Invoice, LedgerEntry
from server.repositories import ledger as ledger_repo
from shared.allocation import OpenInvoice, allocate_payment
from shared.errors import Conflict, InvalidInput
from shared.money import ZERO, money


def post_charge(
    session: Session,
    invoice: Invoice,
    *,
    source: str,
    import_batch_id: uuid.UUID | None = None,
    created_by: uuid.UUID | None = None,
) -> LedgerEntry:
    """The invoice's original amount, charged to its client on its issue (or due) date. A new
    invoice is added to the session (its balance starts at zero and this charge raises it)."""
    amount = money(invoice.amount)
    if amount <= ZERO:
        raise InvalidInput("an invoice charges a positive amount", code="invalid_amount")
    if invoice.id is None:
        session.add(invoice)
        session.flush()
    entry = LedgerEntry(
        client_id=invoice.client_id,
        kind="charge",
        amount=amount,
        effective_date=invoice.issue_date or invoice.due_date,
        source=source,
        import_batch_id=import_batch_id,
        reason=f"Factura {invoice.number}",
        created_by=created_by,
    )
    ledger_repo.add_entry(session, entry, [(invoice.id, amount)])
    return entry


def post_adjustment(
    session: Session,
    *,
    client_id: uuid.UUID,
    invoice_id: uuid.UUID | None,
    amount: Decimal,
    effective_date: date,
    reason: str,
    source: str,
    import_batch_id: uuid.UUID | None = None,
    created_by: uuid.UUID | None = None,
) -> LedgerEntry:
    """A signed correction (credit note when negative) on one invoice or on the client."""
    amount = money(amount)
    if amount == ZERO:
        raise InvalidInput("an adjustment of zero moves nothing", code="invalid_amount")
    if not reason.strip():
        raise InvalidInput("an adjustment needs a reason", code="reason_required")
    if invoice_id is not None and ledger_repo.invoice_client_id(session, invoice_id) != client_id:
        raise InvalidInput("no such invoice for this client", code="invoice_not_found")
    entry = LedgerEntry(
        client_id=client_id,
        kind="adjustment",
        amount=amount,
        effective_date=effective_date,
        source=source,
        import_batch_id=import_batch_id,
        reason=reason,
        created_by=created_by,
    )
    ledger_repo.add_entry(session, entry, [(invoice_id, amount)])
    return entry


def post_payment(
    session: Session,
    *,
    client_id: uuid.UUID,
    amount: Decimal,
    effective_date: date,
    source: str,
    invoice_numbers: Sequence[str] | None = None,
    event_id: uuid.UUID | None = None,
    reason: str = "",
    created_by: uuid.UUID | None = None,
) -> LedgerEntry:
    """A payment applied oldest due first (or to the chosen invoices); any overpayment stays on
    the client as unapplied credit."""
    amount = money(amount)
    if amount <= ZERO:
        raise InvalidInput("a payment must be positive", code="invalid_amount")
    open_rows = ledger_repo.open_invoices_for_payment(session, client_id)
    open_invoices = [OpenInvoice(i.id, i.due_date, i.balance, i.number) for i in open_rows]
    chosen = None
    if invoice_numbers:
        by_number = {i.number: i.id for i in open_rows}
        chosen = [by_number[n] for n in invoice_numbers if n in by_number]
    parts = allocate_payment(amount, open_invoices, chosen)
    entry = LedgerEntry(
        client_id=client_id,
        kind="payment",
        amount=-amount,
        effective_date=effective_date,
        source=source,
        event_id=event_id,
        reason=reason,
        created_by=created_by,
    )
    ledger_repo.add_entry(session, entry, [(p.key, -p.amount) for p in parts])
    return entry


def reverse_entry(
    session: Session,
    entry_id: uuid.UUID,
    *,
    reason: str,
    effective_date: date,
    source: str,
    created_by: uuid.UUID | None = None,
) -> LedgerEntry:
    """A new entry that undoes another exactly, allocation by allocation. Each entry is reversed
    at most once (a unique key); a reversal itself cannot be reversed."""
    original = ledger_repo.get_entry(session, entry_id)
    if original is None:
        raise InvalidInput("no such ledger entry", code="entry_not_found")
    if original.kind == "reversal":
        raise Conflict("a reversal cannot be reversed", code="cannot_reverse_reversal")
    if ledger_repo.reversal_of(session, entry_id) is not None:
        raise Conflict("that entry was already reversed", code="already_reversed")
    if not reason.strip():
        raise InvalidInput("a reversal needs a reason", code="reason_required")
    allocs = ledger_repo.allocations_of(session, entry_id)
    entry = LedgerEntry(
        client_id=original.client_id,
        kind="reversal",
        amount=-original.amount,
        effective_date=effective_date,
        source=source,
        reverses_id=original.id,
        reason=reason,
        created_by=created_by,
    )
    ledger_repo.add_entry(session, entry, [(a.invoice_id, -a.amount) for a in allocs])
    return entry


def client_by_code(session: Session, code: str) -> Client | None:
    return ledger_repo.client_by_code(session, code)
