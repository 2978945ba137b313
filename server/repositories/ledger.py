"""Every query on the ledger and its projections."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.db.models import Client, Invoice, LedgerAllocation, LedgerEntry


def add_entry(
    session: Session, entry: LedgerEntry, allocations: Iterable[tuple[uuid.UUID | None, Decimal]]
) -> None:
    """Insert an entry with its allocations and move the balance projections by the same amounts,
    in the caller's transaction. Projections use `balance = balance + x` so concurrent writers
    never lose an update."""
    session.add(entry)
    session.flush([entry])
    allocs = list(allocations)
    session.add_all(
        LedgerAllocation(entry_id=entry.id, invoice_id=invoice_id, amount=amount)
        for invoice_id, amount in allocs
    )
    session.execute(
        update(Client)
        .where(Client.id == entry.client_id)
        .values(balance=Client.balance + entry.amount, version=Client.version + 1)
    )
    for invoice_id, amount in allocs:
        if invoice_id is not None:
            session.execute(
                update(Invoice)
                .where(Invoice.id == invoice_id)
                .values(balance=Invoice.balance + amount)
            )


def entries_for_client(session: Session, client_id: uuid.UUID) -> Sequence[LedgerEntry]:
    return session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.client_id == client_id)
        .order_by(LedgerEntry.effective_date, LedgerEntry.recorded_at, LedgerEntry.id)
    ).all()


def recomputed_client_balances(session: Session) -> dict[uuid.UUID, Decimal]:
    """Each client's balance as the sum of its entries (the check the projection must pass)."""
    rows = session.execute(
        select(LedgerEntry.client_id, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.client_id)
    ).all()
    return dict(rows)


def recomputed_invoice_balances(session: Session) -> dict[uuid.UUID, Decimal]:
    rows = session.execute(
        select(LedgerAllocation.invoice_id, func.sum(LedgerAllocation.amount))
        .where(LedgerAllocation.invoice_id.is_not(None))
        .group_by(LedgerAllocation.invoice_id)
    ).all()
    return {invoice_id: total for invoice_id, total in rows if invoice_id is not None}
