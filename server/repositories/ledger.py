"""Every query on the ledger and its projections."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, bindparam, func, or_, select, text, update
from sqlalchemy.orm import Session

from server.db.base import Money, UTCDateTime
from server.db.models import Client, Invoice, LedgerAllocation, LedgerEntry
from server.repositories import bulk
from shared.money import to_cents


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


# --- set-based posting (a whole sync chunk at once) -------------------------------------------


class InvoiceBalance(NamedTuple):
    id: uuid.UUID
    client_id: uuid.UUID
    due_date: date
    number: str
    balance: Decimal


class PaymentEntry(NamedTuple):
    id: uuid.UUID
    event_id: uuid.UUID
    client_id: uuid.UUID
    amount: Decimal
    created_by: uuid.UUID | None


def invoices_for_posting(
    session: Session, client_ids: Collection[uuid.UUID], invoice_ids: Collection[uuid.UUID]
) -> list[InvoiceBalance]:
    """The open invoices of `client_ids` plus the invoices `invoice_ids` (those a reversal will
    reopen), locked on PostgreSQL until the transaction ends, in one stable order so concurrent
    chunks take their locks in the same order."""
    if not client_ids and not invoice_ids:
        return []
    conditions: list[ColumnElement[bool]] = []
    if client_ids:
        conditions.append(Invoice.client_id.in_(client_ids) & (Invoice.balance > Decimal("0.00")))
    if invoice_ids:
        conditions.append(Invoice.id.in_(invoice_ids))
    rows = session.execute(
        select(Invoice.id, Invoice.client_id, Invoice.due_date, Invoice.number, Invoice.balance)
        .where(or_(*conditions))
        .order_by(Invoice.id)
        .with_for_update()
    )
    return [InvoiceBalance(*r) for r in rows]


def payment_entries(
    session: Session, event_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, PaymentEntry]:
    """The payment entries posted for these events, by event id."""
    if not event_ids:
        return {}
    rows = session.execute(
        select(
            LedgerEntry.id,
            LedgerEntry.event_id,
            LedgerEntry.client_id,
            LedgerEntry.amount,
            LedgerEntry.created_by,
        ).where(LedgerEntry.event_id.in_(event_ids), LedgerEntry.kind == "payment")
    )
    found: dict[uuid.UUID, PaymentEntry] = {}
    for entry_id, event_id, client_id, amount, created_by in rows:
        if event_id is not None:
            found[event_id] = PaymentEntry(entry_id, event_id, client_id, amount, created_by)
    return found


def reversed_among(session: Session, entry_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these entries were already reversed."""
    if not entry_ids:
        return set()
    found = session.scalars(
        select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.in_(entry_ids))
    )
    return {x for x in found if x is not None}


def allocations_by_entry(
    session: Session, entry_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID | None, Decimal]]]:
    out: dict[uuid.UUID, list[tuple[uuid.UUID | None, Decimal]]] = {}
    if not entry_ids:
        return out
    rows = session.execute(
        select(LedgerAllocation.entry_id, LedgerAllocation.invoice_id, LedgerAllocation.amount)
        .where(LedgerAllocation.entry_id.in_(entry_ids))
        .order_by(LedgerAllocation.id)
    )
    for entry_id, invoice_id, amount in rows:
        out.setdefault(entry_id, []).append((invoice_id, amount))
    return out


# Executed on the session's connection with a list of parameters: a Core executemany, not the
# ORM's bulk update by primary key (which would set balances instead of adding to them).
_MOVE_CLIENT = (
    update(Client)
    .where(Client.id == bindparam("b_id"))
    .values(
        balance=Client.balance + bindparam("b_delta", type_=Money()),
        version=Client.version + bindparam("b_entries"),
        updated_at=bindparam("b_now"),
    )
)
_MOVE_INVOICE = (
    update(Invoice)
    .where(Invoice.id == bindparam("b_id"))
    .values(balance=Invoice.balance + bindparam("b_delta", type_=Money()))
)


# PostgreSQL: a chunk's moves as arrays, one statement per table (balances are cents, BIGINT).
_MOVE_CLIENTS_PG = text(
    "UPDATE client SET balance = client.balance + m.delta, version = client.version + m.n,"
    " updated_at = :now"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:deltas AS bigint[]), CAST(:counts AS integer[]))"
    " AS m(id, delta, n) WHERE client.id = m.id"
).bindparams(bindparam("now", type_=UTCDateTime()))
_MOVE_INVOICES_PG = text(
    "UPDATE invoice SET balance = invoice.balance + m.delta"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:deltas AS bigint[])) AS m(id, delta)"
    " WHERE invoice.id = m.id"
)


def insert_entries(
    session: Session, entries: Sequence[dict[str, Any]], allocations: Sequence[dict[str, Any]]
) -> None:
    """Entries (ids already set, every column named) and their allocations, in bulk."""
    bulk.insert_rows(session, LedgerEntry, entries)
    bulk.insert_rows(session, LedgerAllocation, allocations)


def move_projections(
    session: Session,
    clients: Mapping[uuid.UUID, tuple[Decimal, int]],
    invoices: Mapping[uuid.UUID, Decimal],
    *,
    now: datetime,
) -> None:
    """`balance = balance + delta` for many clients (with their version bumped once per entry)
    and invoices. On PostgreSQL one `UPDATE ... FROM unnest(arrays)` each (one round trip; the
    rows are already locked by the chunk's reads, so the update order cannot deadlock); elsewhere
    one executemany each, in id order."""
    conn = session.connection()
    moved = {iid: d for iid, d in invoices.items() if d}
    if conn.dialect.name == "postgresql":
        if clients:
            ids, moves = zip(*sorted(clients.items()), strict=True)
            conn.execute(
                _MOVE_CLIENTS_PG,
                {
                    "ids": list(ids),
                    "deltas": [to_cents(delta) for delta, _ in moves],
                    "counts": [count for _, count in moves],
                    "now": now,
                },
            )
        if moved:
            conn.execute(
                _MOVE_INVOICES_PG,
                {"ids": sorted(moved), "deltas": [to_cents(moved[i]) for i in sorted(moved)]},
            )
        return
    if clients:
        conn.execute(
            _MOVE_CLIENT,
            [
                {"b_id": cid, "b_delta": delta, "b_entries": count, "b_now": now}
                for cid, (delta, count) in sorted(clients.items())
            ],
        )
    if moved:
        conn.execute(_MOVE_INVOICE, [{"b_id": i, "b_delta": d} for i, d in sorted(moved.items())])
