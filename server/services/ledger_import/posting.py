"""Bulk posting: the bulk twin of `server.services.ledger.post_charge` and `post_adjustment`, for
imports of 100,000 invoices where one ORM round trip per entry would take minutes.

It keeps exactly the invariants of `server.repositories.ledger.add_entry`:
- every entry has allocations that add up to its amount (here: one allocation per entry, to its
  invoice, of the whole amount);
- `client.balance` moves by the sum of its entries' amounts, `invoice.balance` by the sum of its
  allocations, in the same transaction, as relative updates (`balance = balance + x`) so a
  concurrent writer never loses an update; each touched client's `version` goes up.
Clients and invoices created by the same import start from a zero balance, so the caller may insert
them with their delta already in place (`take_new_*`) instead of inserting and then updating:
the same arithmetic, one statement fewer per row. Never commits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from server.db.base import Money
from server.db.models import Client, Invoice, LedgerAllocation, LedgerEntry
from shared.money import ZERO, money


@dataclass(frozen=True, slots=True)
class BulkEntry:
    client_id: uuid.UUID
    invoice_id: uuid.UUID
    kind: str  # "charge" | "adjustment"
    amount: Decimal
    effective_date: date
    reason: str


@dataclass
class BulkPosting:
    """Entries to write in one go, with the projection deltas they imply."""

    entries: list[BulkEntry] = field(default_factory=list)
    client_deltas: dict[uuid.UUID, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    invoice_deltas: dict[uuid.UUID, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def charge(self, *, client_id: uuid.UUID, invoice_id: uuid.UUID, number: str,
               amount: Decimal, effective_date: date) -> None:  # fmt: skip
        """Like `ledger.post_charge`: the invoice's original amount, positive."""
        if amount <= ZERO:
            raise ValueError("an invoice charges a positive amount")
        self._add(BulkEntry(client_id, invoice_id, "charge", money(amount), effective_date,
                            f"Factura {number}"))  # fmt: skip

    def adjust(self, *, client_id: uuid.UUID, invoice_id: uuid.UUID, amount: Decimal,
               effective_date: date, reason: str) -> None:  # fmt: skip
        """Like `ledger.post_adjustment` on one invoice: signed, never zero, with a reason."""
        if amount == ZERO or not reason.strip():
            raise ValueError("an adjustment moves a non-zero amount and has a reason")
        self._add(BulkEntry(client_id, invoice_id, "adjustment", money(amount), effective_date,
                            reason))  # fmt: skip

    def _add(self, entry: BulkEntry) -> None:
        self.entries.append(entry)
        self.client_deltas[entry.client_id] += entry.amount
        self.invoice_deltas[entry.invoice_id] += entry.amount

    def take_new_invoice_balance(self, invoice_id: uuid.UUID) -> Decimal:
        """The balance a just-created invoice starts with; its delta is then consumed."""
        return money(self.invoice_deltas.pop(invoice_id, ZERO))

    def take_new_client_balance(self, client_id: uuid.UUID) -> Decimal:
        return money(self.client_deltas.pop(client_id, ZERO))


def write_posting(
    session: Session,
    posting: BulkPosting,
    *,
    source: str,
    import_batch_id: uuid.UUID | None,
    created_by: uuid.UUID | None,
    recorded_at: datetime,
    touched_clients: Iterable[uuid.UUID] = (),
) -> None:
    """Insert the entries and allocations, then move the remaining projections. Clients in
    `touched_clients` get their version bumped even without a balance change."""
    entry_rows = []
    allocation_rows = []
    for e in posting.entries:
        entry_id = uuid.uuid4()
        entry_rows.append({
            "id": entry_id, "client_id": e.client_id, "kind": e.kind, "amount": e.amount,
            "effective_date": e.effective_date, "recorded_at": recorded_at, "source": source,
            "import_batch_id": import_batch_id, "reason": e.reason, "created_by": created_by,
        })  # fmt: skip
        allocation_rows.append(
            {"entry_id": entry_id, "invoice_id": e.invoice_id, "amount": e.amount}
        )
    if entry_rows:
        # Core inserts: the ORM's bulk path costs more than the database for plain rows.
        session.execute(insert(cast(Table, LedgerEntry.__table__)), entry_rows)
        session.execute(insert(cast(Table, LedgerAllocation.__table__)), allocation_rows)
    invoices = cast(Table, Invoice.__table__)
    # Sorted ids: concurrent writers take row locks in one order, so they queue, not deadlock.
    invoice_updates = [
        {"b_id": k, "delta": v} for k, v in sorted(posting.invoice_deltas.items()) if v
    ]
    if invoice_updates:
        session.execute(
            update(invoices)
            .where(invoices.c.id == bindparam("b_id"))
            .values(balance=invoices.c.balance + bindparam("delta", type_=Money())),
            invoice_updates,
        )
    clients = cast(Table, Client.__table__)
    client_ids = set(posting.client_deltas) | set(touched_clients)
    client_updates = [
        {"b_id": k, "delta": posting.client_deltas.get(k, ZERO)} for k in sorted(client_ids)
    ]
    if client_updates:
        session.execute(
            update(clients)
            .where(clients.c.id == bindparam("b_id"))
            .values(
                balance=clients.c.balance + bindparam("delta", type_=Money()),
                version=clients.c.version + 1,
            ),
            client_updates,
        )
