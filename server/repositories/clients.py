"""Queries on clients, their invoices and their ledger as of a date. Portable SQL only: every query
here must answer the same on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from server.db.models import Client, Invoice, LedgerAllocation, LedgerEntry, User
from shared.money import ZERO

# A client and its collector's username (NULL when unassigned: the join is outer).
_ClientRows = Select[Client, str]
_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class ClientFilter:
    collector_id: uuid.UUID | None = None  # a collector's own list
    collector_username: str | None = None  # an office filter
    segment: str | None = None
    # clients with an open invoice due within these dates (inclusive; None is unbounded)
    due_between: tuple[date | None, date | None] | None = None


def _filtered(stmt: _S, f: ClientFilter) -> _S:
    """`stmt` (over client outer-joined to its collector) narrowed by `f`."""
    if f.collector_id is not None:
        stmt = stmt.where(Client.collector_id == f.collector_id)
    if f.collector_username is not None:
        stmt = stmt.where(User.username == f.collector_username)
    if f.segment is not None:
        stmt = stmt.where(Client.segment == f.segment)
    if f.due_between is not None:
        due_from, due_to = f.due_between
        due = [Invoice.client_id == Client.id, Invoice.balance > ZERO]
        if due_from is not None:
            due.append(Invoice.due_date >= due_from)
        if due_to is not None:
            due.append(Invoice.due_date <= due_to)
        stmt = stmt.where(exists().where(and_(*due)))
    return stmt


def _with_collector() -> _ClientRows:
    return select(Client, User.username).outerjoin(User, User.id == Client.collector_id)


def search_clients(
    session: Session, f: ClientFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Client, str | None]], int]:
    """One page of clients (with their collector's username) ordered by code, and the total."""
    stmt = _filtered(_with_collector(), f)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.order_by(Client.code, Client.id).limit(limit).offset(offset)).all()
    return [(c, u) for c, u in rows], total


def search_keys(session: Session, f: ClientFilter) -> list[tuple[uuid.UUID, str, str, str]]:
    """(id, code, name, tax_id) of every client passing the filter, ordered by code: the text
    search runs over these in Python, because neither engine folds accents the same way (SQLite's
    lower() knows only ASCII, and a chain of replace() calls overflows SQLite's parser)."""
    stmt = _filtered(
        select(Client.id, Client.code, Client.name, Client.tax_id)
        .select_from(Client)
        .outerjoin(User, User.id == Client.collector_id),
        f,
    )
    rows = session.execute(stmt.order_by(Client.code, Client.id)).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def clients_by_ids(session: Session, ids: Sequence[uuid.UUID]) -> list[tuple[Client, str | None]]:
    """The clients with these ids (and their collector's username), ordered by code."""
    if not ids:
        return []
    stmt = _with_collector().where(Client.id.in_(ids)).order_by(Client.code, Client.id)
    return [(c, u) for c, u in session.execute(stmt).all()]


def get_client(session: Session, client_id: uuid.UUID) -> tuple[Client, str | None] | None:
    row = session.execute(
        select(Client, User.username)
        .outerjoin(User, User.id == Client.collector_id)
        .where(Client.id == client_id)
    ).first()
    return None if row is None else (row[0], row[1])


def open_invoices(session: Session, client_ids: Sequence[uuid.UUID]) -> Sequence[Invoice]:
    """Invoices with a balance other than zero today (the projection), oldest due first."""
    if not client_ids:
        return []
    return session.scalars(
        select(Invoice)
        .where(Invoice.client_id.in_(client_ids), Invoice.balance != ZERO)
        .order_by(Invoice.client_id, Invoice.due_date, Invoice.number)
    ).all()


def unapplied_credit(session: Session, client_id: uuid.UUID) -> Decimal:
    """Overpayments standing on the client today, as a positive amount."""
    total = session.scalar(
        select(func.sum(LedgerAllocation.amount))
        .join(LedgerEntry, LedgerEntry.id == LedgerAllocation.entry_id)
        .where(LedgerEntry.client_id == client_id, LedgerAllocation.invoice_id.is_(None))
    )
    return -(total or ZERO)


def active_collector(session: Session, username: str) -> User | None:
    return session.scalar(
        select(User).where(User.username == username, User.role == "collector", User.active)
    )


def entries_until(session: Session, client_id: uuid.UUID, as_of: date) -> Sequence[LedgerEntry]:
    """The client's entries effective on or before `as_of`, in the order they took effect."""
    return session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.client_id == client_id, LedgerEntry.effective_date <= as_of)
        .order_by(LedgerEntry.effective_date, LedgerEntry.recorded_at, LedgerEntry.id)
    ).all()


@dataclass(frozen=True)
class AllocationRow:
    entry_id: uuid.UUID
    amount: Decimal
    invoice_id: uuid.UUID | None
    number: str | None
    issue_date: date | None
    due_date: date | None
    invoice_amount: Decimal | None


def allocations_until(session: Session, client_id: uuid.UUID, as_of: date) -> list[AllocationRow]:
    """Allocations of the client's entries effective on or before `as_of`, with their invoice."""
    rows = session.execute(
        select(
            LedgerAllocation.entry_id,
            LedgerAllocation.amount,
            Invoice.id,
            Invoice.number,
            Invoice.issue_date,
            Invoice.due_date,
            Invoice.amount,
        )
        .join(LedgerEntry, LedgerEntry.id == LedgerAllocation.entry_id)
        .outerjoin(Invoice, Invoice.id == LedgerAllocation.invoice_id)
        .where(LedgerEntry.client_id == client_id, LedgerEntry.effective_date <= as_of)
        .order_by(LedgerAllocation.id)
    ).all()
    return [AllocationRow(*row) for row in rows]


@dataclass(frozen=True)
class BalanceAsOf:
    """An invoice's balance at a date (or, with due_date None, a client's unapplied allocations)."""

    collector: str | None
    segment: str
    due_date: date | None
    balance: Decimal


def balances_as_of(
    session: Session, as_of: date, *, collector: str | None = None, segment: str | None = None
) -> list[BalanceAsOf]:
    """Per invoice, and per client for allocations to no invoice: the sum of the allocations of
    entries effective on or before `as_of`. Zero sums are left out."""
    total = func.sum(LedgerAllocation.amount)
    stmt = (
        select(User.username, Client.segment, Invoice.due_date, total)
        .select_from(LedgerAllocation)
        .join(LedgerEntry, LedgerEntry.id == LedgerAllocation.entry_id)
        .join(Client, Client.id == LedgerEntry.client_id)
        .outerjoin(Invoice, Invoice.id == LedgerAllocation.invoice_id)
        .outerjoin(User, User.id == Client.collector_id)
        .where(LedgerEntry.effective_date <= as_of)
        .group_by(Client.id, User.username, Client.segment, Invoice.id, Invoice.due_date)
        .having(total != ZERO)
    )
    if collector is not None:
        stmt = stmt.where(User.username == collector)
    if segment is not None:
        stmt = stmt.where(Client.segment == segment)
    return [BalanceAsOf(*row) for row in session.execute(stmt).all()]
