"""Ledger use cases: every movement of money goes through here. Never commits (the caller does)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from server.db.models import Client, Invoice, LedgerEntry
from server.repositories import ledger as ledger_repo
from server.repositories.ledger import InvoiceBalance
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


@dataclass
class Posted:
    """An entry as a batch knows it: enough to reverse it later in the same chunk."""

    id: uuid.UUID
    client_id: uuid.UUID
    amount: Decimal
    created_by: uuid.UUID | None
    allocations: list[tuple[uuid.UUID | None, Decimal]]


@dataclass
class _Invoice:
    id: uuid.UUID
    due_date: date
    number: str
    balance: Decimal


@dataclass
class PostingBatch:
    """Many payments and reversals posted at once with the rules of `post_payment` and
    `reverse_entry`: allocation in Python against balances read once (and locked), entries,
    allocations and projection moves written in bulk by `write`. Each posting sees the balances
    the earlier ones left, exactly as if they had been posted one by one."""

    invoices: dict[uuid.UUID, list[_Invoice]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    allocations: list[dict[str, Any]] = field(default_factory=list)
    client_moves: dict[uuid.UUID, tuple[Decimal, int]] = field(default_factory=dict)
    invoice_moves: dict[uuid.UUID, Decimal] = field(default_factory=dict)
    _by_id: dict[uuid.UUID, _Invoice] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        session: Session,
        client_ids: Iterable[uuid.UUID],
        reopened_invoice_ids: Iterable[uuid.UUID],
    ) -> PostingBatch:
        """The open invoices of the clients that will be paid, plus the invoices reversals will
        put money back on, locked until the transaction ends."""
        batch = cls()
        rows = ledger_repo.invoices_for_posting(session, set(client_ids), set(reopened_invoice_ids))
        for row in rows:
            batch._track(row)
        return batch

    def _track(self, row: InvoiceBalance) -> None:
        invoice = _Invoice(row.id, row.due_date, row.number, row.balance)
        self._by_id[row.id] = invoice
        self.invoices.setdefault(row.client_id, []).append(invoice)

    def payment(
        self,
        *,
        client_id: uuid.UUID,
        amount: Decimal,
        effective_date: date,
        source: str,
        invoice_numbers: Sequence[str] | None,
        event_id: uuid.UUID,
        reason: str,
        created_by: uuid.UUID,
        recorded_at: datetime,
    ) -> Posted:
        amount = money(amount)
        if amount <= ZERO:
            raise InvalidInput("a payment must be positive", code="invalid_amount")
        open_now = [i for i in self.invoices.get(client_id, ()) if i.balance > ZERO]
        chosen = None
        if invoice_numbers:
            by_number = {i.number: i.id for i in open_now}
            chosen = [by_number[n] for n in invoice_numbers if n in by_number]
        parts = allocate_payment(
            amount, [OpenInvoice(i.id, i.due_date, i.balance, i.number) for i in open_now], chosen
        )
        return self._add(
            client_id=client_id,
            kind="payment",
            amount=-amount,
            allocations=[(p.key, -p.amount) for p in parts],
            row={
                "effective_date": effective_date,
                "source": source,
                "event_id": event_id,
                "reverses_id": None,
                "reason": reason,
                "created_by": created_by,
                "recorded_at": recorded_at,
            },
        )

    def reversal(
        self,
        original: Posted,
        *,
        reason: str,
        effective_date: date,
        source: str,
        created_by: uuid.UUID,
        recorded_at: datetime,
    ) -> Posted:
        """Undo `original` allocation by allocation (the caller checked it is not reversed)."""
        return self._add(
            client_id=original.client_id,
            kind="reversal",
            amount=-original.amount,
            allocations=[(invoice_id, -amount) for invoice_id, amount in original.allocations],
            row={
                "effective_date": effective_date,
                "source": source,
                "event_id": None,
                "reverses_id": original.id,
                "reason": reason,
                "created_by": created_by,
                "recorded_at": recorded_at,
            },
        )

    def _add(
        self,
        *,
        client_id: uuid.UUID,
        kind: str,
        amount: Decimal,
        allocations: list[tuple[uuid.UUID | None, Decimal]],
        row: dict[str, Any],
    ) -> Posted:
        entry_id = uuid.uuid4()
        self.entries.append(
            {"id": entry_id, "client_id": client_id, "kind": kind, "amount": amount, **row}
        )
        for invoice_id, part in allocations:
            self.allocations.append(
                {"entry_id": entry_id, "invoice_id": invoice_id, "amount": part}
            )
            if invoice_id is not None:
                self.invoice_moves[invoice_id] = self.invoice_moves.get(invoice_id, ZERO) + part
                tracked = self._by_id.get(invoice_id)
                if tracked is not None:
                    tracked.balance += part
        delta, count = self.client_moves.get(client_id, (ZERO, 0))
        self.client_moves[client_id] = (delta + amount, count + 1)
        return Posted(entry_id, client_id, amount, row["created_by"], allocations)

    def write(self, session: Session, *, now: datetime) -> None:
        ledger_repo.insert_entries(session, self.entries, self.allocations)
        ledger_repo.move_projections(session, self.client_moves, self.invoice_moves, now=now)


def client_by_code(session: Session, code: str) -> Client | None:
    return ledger_repo.client_by_code(session, code)
