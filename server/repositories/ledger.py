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
    session.flush()  # assigns entry.id (flush(objects) is deprecated in 2.1)
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


def get_entry(session: Session, entry_id: uuid.UUID) -> LedgerEntry | None:
    return session.get(LedgerEntry, entry_id)


def reversal_of(session: Session, entry_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the entry that reversed `entry_id`, if any."""
    return session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry_id))


def allocations_of(session: Session, entry_id: uuid.UUID) -> Sequence[LedgerAllocation]:
    return session.scalars(
        select(LedgerAllocation)
        .where(LedgerAllocation.entry_id == entry_id)
        .order_by(LedgerAllocation.id)
    ).all()


def open_invoices_for_payment(session: Session, client_id: uuid.UUID) -> Sequence[Invoice]:
    """The client's invoices with a positive balance, oldest due first, locked (on PostgreSQL)
    until the transaction ends so two payments cannot both take the same balance. SQLite needs
    no lock: the engine begins every transaction IMMEDIATE, one writer at a time."""
    return session.scalars(
        select(Invoice)
        .where(Invoice.client_id == client_id, Invoice.balance > Decimal("0.00"))
        .order_by(Invoice.due_date, Invoice.number)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def invoice_client_id(session: Session, invoice_id: uuid.UUID) -> uuid.UUID | None:
    return session.scalar(select(Invoice.client_id).where(Invoice.id == invoice_id))


def client_by_code(session: Session, code: str) -> Client | None:
    return session.scalar(select(Client).where(Client.code == code))


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
