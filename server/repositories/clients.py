"""Queries on clients, their invoices and their ledger as of a date. Portable SQL only: every query
here must answer the same on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import reduce

from sqlalchemy import Select, SQLColumnExpression, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from server.db.models import Client, Invoice, LedgerAllocation, LedgerEntry, User
from shared.money import ZERO

# Accented letters (both cases) and stray combining marks, folded in SQL the way `shared.clients.
# fold` folds the search term. SQLite's lower() only knows ASCII and neither engine ships an
# accent-stripping function enabled by default, so the fold is a chain of replace() calls.
_ACCENTED = "áàâäãåéèêëíìîïóòôöõúùûüýÿñçÁÀÂÄÃÅÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÝÑÇ"
_FOLDS: tuple[tuple[str, str], ...] = tuple(
    (ch, unicodedata.normalize("NFKD", ch)[0]) for ch in _ACCENTED
) + tuple((chr(mark), "") for mark in (0x300, 0x301, 0x302, 0x303, 0x308, 0x327))


def folded(column: SQLColumnExpression[str]) -> SQLColumnExpression[str]:
    """`column` lower-cased with accents removed, in SQL."""
    replaced = reduce(lambda expr, pair: func.replace(expr, pair[0], pair[1]), _FOLDS, column)
    return func.lower(replaced)


def _without_punctuation(column: SQLColumnExpression[str]) -> SQLColumnExpression[str]:
    return reduce(lambda expr, ch: func.replace(expr, ch, ""), ".- /", func.lower(column))


# A client and its collector's username (NULL when unassigned: the join is outer).
_ClientRows = Select[Client, str]


@dataclass(frozen=True)
class ClientFilter:
    collector_id: uuid.UUID | None = None  # a collector's own list
    collector_username: str | None = None  # an office filter
    segment: str | None = None
    # clients with an open invoice due within these dates (inclusive; None is unbounded)
    due_between: tuple[date | None, date | None] | None = None
    q: str | None = None  # already folded
    q_tax_id: str | None = None  # already stripped of punctuation


def _filtered(stmt: _ClientRows, f: ClientFilter) -> _ClientRows:
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
    if f.q:
        matches = [
            folded(Client.code).contains(f.q, autoescape=True),
            folded(Client.name).contains(f.q, autoescape=True),
        ]
        if f.q_tax_id:
            matches.append(
                _without_punctuation(Client.tax_id).contains(f.q_tax_id, autoescape=True)
            )
        stmt = stmt.where(or_(*matches))
    return stmt


def search_clients(
    session: Session, f: ClientFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Client, str | None]], int]:
    """One page of clients (with their collector's username) ordered by code, and the total."""
    base: _ClientRows = select(Client, User.username).outerjoin(
        User, User.id == Client.collector_id
    )
    stmt = _filtered(base, f)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.order_by(Client.code, Client.id).limit(limit).offset(offset)).all()
    return [(c, u) for c, u in rows], total


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
