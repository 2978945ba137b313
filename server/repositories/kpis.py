"""Set-based queries behind the KPIs (server/services/kpis.py): every figure is a GROUP BY over the
ledger, visits and promises, answered per (collector, segment) so the service only adds up a few
rows. Portable SQL only: each query answers the same on SQLite and PostgreSQL.

Who a row belongs to: portfolio figures (overdue balance, recovery, settled invoices, risky
clients) go to the client's current collector, like the aging report; field facts (visits,
promises) go to the collector who recorded them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Integer, Select, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from server.db.models import (
    Client,
    InboundEvent,
    Invoice,
    LedgerAllocation,
    LedgerEntry,
    Promise,
    User,
    Visit,
)
from shared.money import ZERO

_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])
GroupKey = tuple[str | None, str | None]  # (collector username, segment)


@dataclass(frozen=True)
class Scope:
    """The report's filters: a collector's username and a segment (None: all)."""

    collector: str | None = None
    segment: str | None = None

    def narrow(self, stmt: _S) -> _S:
        """`stmt`, which joins `User` and `Client`, narrowed to the scope."""
        if self.collector is not None:
            stmt = stmt.where(User.username == self.collector)
        if self.segment is not None:
            stmt = stmt.where(Client.segment == self.segment)
        return stmt


class days_between(FunctionElement[int]):
    """Whole days from the first date to the second, computed by the database."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "postgresql")
def _days_between_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    first, second = (compiler.process(c, **kw) for c in element.clauses)
    return f"({second} - {first})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    first, second = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({second}) - julianday({first}) AS INTEGER)"


@dataclass(frozen=True)
class Portfolio:
    overdue: Decimal  # balance overdue when the period starts
    invoices: int  # how many invoices hold it
    recovered: Decimal  # paid on them in the period, net of reversals of payments (positive)
    settled: int  # invoices a payment in the period left at zero
    settled_days: int  # the sum over those of the days from due date to that payment (>= 0)


def portfolio(session: Session, start: date, end: date, scope: Scope) -> dict[GroupKey, Portfolio]:
    """One pass over the allocations of entries effective up to `end`, per invoice: its balance
    when `start` begins, at the end of `end`, what payments effective in the period (less the
    reversals of payments effective in it) took off, and the day of its last payment in the
    period; then per group:
    - overdue at the start: invoices due before `start` with a positive balance then, and what
      the period recovered on them;
    - settled: invoices at zero at the end that a payment in the period was applied to (the last
      such payment settled them; paid on or before the due date counts 0 days)."""
    reversed_entry = aliased(LedgerEntry)
    in_period = LedgerEntry.effective_date >= start
    recovering = and_(
        in_period,
        or_(
            LedgerEntry.kind == "payment",
            and_(LedgerEntry.kind == "reversal", reversed_entry.kind == "payment"),
        ),
    )
    # The column first in each CASE: it gives the CASE its type (Money, stored in cents).
    opening = func.sum(
        case((LedgerEntry.effective_date < start, LedgerAllocation.amount), else_=ZERO)
    )
    closing = func.sum(LedgerAllocation.amount)
    paid = func.sum(case((recovering, LedgerAllocation.amount), else_=ZERO))
    paid_on = func.max(
        case((and_(LedgerEntry.kind == "payment", in_period), LedgerEntry.effective_date))
    )
    was_overdue = and_(Invoice.due_date < start, opening > ZERO)
    settled = and_(closing == ZERO, paid_on.is_not(None))
    per_invoice = (
        select(
            Invoice.client_id.label("client_id"),
            Invoice.due_date.label("due_date"),
            opening.label("opening"),
            paid.label("paid"),
            paid_on.label("paid_on"),
            case((was_overdue, 1), else_=0).label("overdue"),
            case((settled, 1), else_=0).label("settled"),
        )
        .select_from(LedgerAllocation)
        .join(LedgerEntry, LedgerEntry.id == LedgerAllocation.entry_id)
        .join(Invoice, Invoice.id == LedgerAllocation.invoice_id)
        .outerjoin(
            reversed_entry,
            and_(reversed_entry.id == LedgerEntry.reverses_id, LedgerEntry.kind == "reversal"),
        )
        .where(LedgerEntry.effective_date <= end)
        .group_by(Invoice.id, Invoice.client_id, Invoice.due_date)
        .having(or_(was_overdue, settled))
        .subquery("per_invoice")
    )
    overdue = per_invoice.c.overdue == 1
    days = days_between(per_invoice.c.due_date, per_invoice.c.paid_on)
    stmt = scope.narrow(
        select(
            User.username,
            Client.segment,
            func.sum(case((overdue, per_invoice.c.opening), else_=ZERO)),
            func.sum(per_invoice.c.overdue),
            func.sum(case((overdue, per_invoice.c.paid), else_=ZERO)),
            func.sum(per_invoice.c.settled),
            func.sum(case((and_(per_invoice.c.settled == 1, days > 0), days), else_=0)),
        )
        .select_from(per_invoice)
        .join(Client, Client.id == per_invoice.c.client_id)
        .outerjoin(User, User.id == Client.collector_id)
        .group_by(User.username, Client.segment)
    )
    return {
        (r[0], r[1]): Portfolio(r[2], int(r[3]), -r[4], int(r[5]), int(r[6]))
        for r in session.execute(stmt).all()
    }


@dataclass(frozen=True)
class VisitCounts:
    visits: int
    effective: int
    verified: int
    flagged: int


def visit_counts(
    session: Session,
    start: date,
    end: date,
    scope: Scope,
    *,
    effective_outcomes: Collection[str],
    unflagged_forms: Collection[str],
) -> dict[GroupKey, VisitCounts]:
    """Visits of business days `start..end` per (recording collector, client's segment); the
    segment is NULL for a client the server does not know."""
    stmt = scope.narrow(
        select(
            User.username,
            Client.segment,
            func.count(),
            func.sum(case((Visit.outcome.in_(effective_outcomes), 1), else_=0)),
            func.sum(case((Visit.verified, 1), else_=0)),
            func.sum(case((Visit.flags.not_in(unflagged_forms), 1), else_=0)),
        )
        .select_from(Visit)
        .join(User, User.id == Visit.user_id)
        .outerjoin(Client, Client.id == Visit.client_id)
        .where(Visit.business_date.between(start, end))
        .group_by(User.username, Client.segment)
    )
    return {
        (r[0], r[1]): VisitCounts(int(r[2]), int(r[3]), int(r[4]), int(r[5]))
        for r in session.execute(stmt).all()
    }


def promises_made(
    session: Session, made_from: datetime, made_until: datetime, scope: Scope
) -> dict[GroupKey, int]:
    """Promises made (device time) in `[made_from, made_until)`, per (recording collector,
    client's segment)."""
    stmt = scope.narrow(
        select(User.username, Client.segment, func.count())
        .select_from(Promise)
        .join(User, User.id == Promise.user_id)
        .outerjoin(Client, Client.id == Promise.client_id)
        .where(Promise.device_time >= made_from, Promise.device_time < made_until)
        .group_by(User.username, Client.segment)
    )
    return {(r[0], r[1]): int(r[2]) for r in session.execute(stmt).all()}


@dataclass(frozen=True)
class PromiseRow:
    client_id: uuid.UUID
    collector: str  # who recorded it
    segment: str | None
    made_at: datetime
    due_date: date
    amount: Decimal


def promises_due(session: Session, due_from: date, due_to: date, scope: Scope) -> list[PromiseRow]:
    """Promises due in `due_from..due_to` (their status is derived by shared.promises)."""
    stmt = scope.narrow(
        select(
            Promise.client_id,
            User.username,
            Client.segment,
            Promise.device_time,
            Promise.due_date,
            Promise.amount,
        )
        .select_from(Promise)
        .join(User, User.id == Promise.user_id)
        .outerjoin(Client, Client.id == Promise.client_id)
        .where(Promise.due_date.between(due_from, due_to))
        .order_by(Promise.id)
    )
    return [PromiseRow(*r) for r in session.execute(stmt).all()]


def standing_payments(
    session: Session, due_from: date, due_to: date, since: date, until: date, scope: Scope
) -> list[tuple[uuid.UUID, datetime, Decimal]]:
    """(client id, paid at, amount > 0) of the payments effective in `since..until`, not reversed,
    of the clients with a promise due in `due_from..due_to`. Paid at is the phone's time of a
    synced payment, else when it was recorded (as the pull's pending promises read it)."""
    reversal = aliased(LedgerEntry)
    promised = scope.narrow(
        select(Promise.client_id)
        .join(User, User.id == Promise.user_id)
        .outerjoin(Client, Client.id == Promise.client_id)
        .where(Promise.due_date.between(due_from, due_to))
    )
    rows = session.execute(
        select(
            LedgerEntry.client_id,
            InboundEvent.device_time,
            LedgerEntry.recorded_at,
            LedgerEntry.amount,
        )
        .outerjoin(InboundEvent, InboundEvent.event_id == LedgerEntry.event_id)
        .where(
            LedgerEntry.client_id.in_(promised),
            LedgerEntry.kind == "payment",
            LedgerEntry.effective_date.between(since, until),
            ~select(reversal.id).where(reversal.reverses_id == LedgerEntry.id).exists(),
        )
    ).all()
    return [(r[0], r[1] if r[1] is not None else r[2], -r[3]) for r in rows]


@dataclass(frozen=True)
class OverdueClient:
    client_id: uuid.UUID
    code: str
    name: str
    collector: str | None
    segment: str
    oldest_due: date
    overdue_balance: Decimal
    last_contact: date | None  # business date of the last effective contact on or before `as_of`


def overdue_clients(
    session: Session, as_of: date, scope: Scope, *, effective_outcomes: Collection[str]
) -> list[OverdueClient]:
    """Every client with a balance overdue at the end of `as_of`, with its oldest overdue due
    date and its last effective contact (any collector's) on or before `as_of`."""
    balance = func.sum(LedgerAllocation.amount)
    per_invoice = (
        select(
            LedgerAllocation.invoice_id.label("invoice_id"),
            Invoice.client_id.label("client_id"),
            Invoice.due_date.label("due_date"),
            balance.label("balance"),
        )
        .join(LedgerEntry, LedgerEntry.id == LedgerAllocation.entry_id)
        .join(Invoice, Invoice.id == LedgerAllocation.invoice_id)
        .where(LedgerEntry.effective_date <= as_of, Invoice.due_date < as_of)
        .group_by(LedgerAllocation.invoice_id, Invoice.client_id, Invoice.due_date)
        .having(balance > ZERO)
        .subquery("overdue")
    )
    contacts = (
        select(Visit.client_id.label("client_id"), func.max(Visit.business_date).label("last"))
        .where(Visit.outcome.in_(effective_outcomes), Visit.business_date <= as_of)
        .group_by(Visit.client_id)
        .subquery("contacts")
    )
    stmt = scope.narrow(
        select(
            Client.id,
            Client.code,
            Client.name,
            User.username,
            Client.segment,
            func.min(per_invoice.c.due_date),
            func.sum(per_invoice.c.balance),
            func.max(contacts.c.last),
        )
        .select_from(per_invoice)
        .join(Client, Client.id == per_invoice.c.client_id)
        .outerjoin(User, User.id == Client.collector_id)
        .outerjoin(contacts, contacts.c.client_id == Client.id)
        .group_by(Client.id, Client.code, Client.name, User.username, Client.segment)
    )
    return [
        OverdueClient(r[0], r[1], r[2], r[3], r[4], _as_date(r[5]), r[6], _maybe_date(r[7]))
        for r in session.execute(stmt).all()
    ]


def _as_date(value: date | str) -> date:
    """SQLite hands back aggregates of dates as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _maybe_date(value: date | str | None) -> date | None:
    return None if value is None else _as_date(value)


@dataclass(frozen=True)
class Collected:
    payments: int
    collected: Decimal  # the payments, positive
    voided: Decimal  # reversals of field payments effective in the period, positive


def collections_by_collector(session: Session, start: date, end: date) -> dict[str, Collected]:
    """Field payments (synced from a collector's phone) effective in `start..end` per collector,
    and the reversals of field payments effective in the period, charged to the collector who
    took the money (a reversal takes its amount back in the period of the reversal)."""
    original = aliased(LedgerEntry)
    is_payment = LedgerEntry.kind == "payment"
    who = case((is_payment, LedgerEntry.created_by), else_=original.created_by)
    stmt = (
        select(
            User.username,
            func.sum(case((is_payment, 1), else_=0)),
            func.sum(case((is_payment, -LedgerEntry.amount), else_=ZERO)),
            # The column first: a CASE takes its type (Money, stored in cents) from it.
            func.sum(case((LedgerEntry.kind == "reversal", LedgerEntry.amount), else_=ZERO)),
        )
        .select_from(LedgerEntry)
        .outerjoin(original, original.id == LedgerEntry.reverses_id)
        .join(User, User.id == who)
        .where(
            LedgerEntry.effective_date.between(start, end),
            or_(
                and_(is_payment, LedgerEntry.source == "sync"),
                and_(
                    LedgerEntry.kind == "reversal",
                    original.kind == "payment",
                    original.source == "sync",
                ),
            ),
        )
        .group_by(User.username)
    )
    return {r[0]: Collected(int(r[1]), r[2], r[3]) for r in session.execute(stmt).all()}
