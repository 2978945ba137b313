"""Queries of disputes (glosas y devoluciones): the invoices a push chunk's disputes name, the
office's list, the open disputes a phone gets, and the figures aging and the KPIs show."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from server.db.models import Client, Dispute, Invoice, User
from shared.money import ZERO


@dataclass
class DisputedInvoice:
    """An invoice a dispute names: its balance now and what open disputes already claim of it
    (mutable: the push adds the chunk's own disputes as it goes)."""

    id: uuid.UUID
    balance: Decimal
    disputed: Decimal


def _open_sums() -> Select[uuid.UUID | None, Decimal]:
    return (
        select(Dispute.invoice_id, func.sum(Dispute.amount))
        .where(Dispute.status == "open", Dispute.invoice_id.is_not(None))
        .group_by(Dispute.invoice_id)
    )


def invoices_by_number(
    session: Session, keys: Collection[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], DisputedInvoice]:
    """The invoices of these (client id, number) pairs with their open disputed sum: one query
    (a number of another client is not found: a dispute is on the client's own invoice)."""
    if not keys:
        return {}
    sums = _open_sums().subquery()
    rows = session.execute(
        select(Invoice.client_id, Invoice.number, Invoice.id, Invoice.balance, sums.c[1])
        .outerjoin(sums, sums.c.invoice_id == Invoice.id)
        .where(tuple_(Invoice.client_id, Invoice.number).in_(list(keys)))
    )
    return {(r[0], r[1]): DisputedInvoice(r[2], r[3], r[4] or ZERO) for r in rows}


def invoice_of_client(
    session: Session, client_id: uuid.UUID, number: str
) -> DisputedInvoice | None:
    found = invoices_by_number(session, [(client_id, number)])
    return found.get((client_id, number))


def lock_dispute(session: Session, dispute_id: uuid.UUID) -> Dispute | None:
    return session.scalar(select(Dispute).where(Dispute.id == dispute_id).with_for_update())


@dataclass(frozen=True)
class DisputeRow:
    dispute: Dispute
    client_code: str
    client_name: str
    collector: str | None
    invoice_balance: Decimal | None
    invoice_due: date | None
    opened_by: str
    decided_by: str | None


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    collector: str | None = None  # the client's collector (username)
    client_id: uuid.UUID | None = None


def _rows(f: Filters) -> Select[*tuple[Any, ...]]:
    collector, opener, decider = aliased(User), aliased(User), aliased(User)
    stmt = (
        select(
            Dispute,
            Client.code,
            Client.name,
            collector.username,
            Invoice.balance,
            Invoice.due_date,
            opener.username,
            decider.username,
        )
        .join(Client, Client.id == Dispute.client_id)
        .outerjoin(collector, collector.id == Client.collector_id)
        .outerjoin(Invoice, Invoice.id == Dispute.invoice_id)
        .join(opener, opener.id == Dispute.opened_by)
        .outerjoin(decider, decider.id == Dispute.decided_by)
    )
    if f.status is not None:
        stmt = stmt.where(Dispute.status == f.status)
    if f.collector is not None:
        stmt = stmt.where(collector.username == f.collector)
    if f.client_id is not None:
        stmt = stmt.where(Dispute.client_id == f.client_id)
    return stmt


def disputes(session: Session, f: Filters, *, limit: int, offset: int) -> list[DisputeRow]:
    """Oldest first (the queue a supervisor works through)."""
    stmt = _rows(f).order_by(Dispute.opened_at, Dispute.id).limit(limit).offset(offset)
    return [DisputeRow(*row) for row in session.execute(stmt).all()]


def count(session: Session, f: Filters) -> int:
    return session.scalar(select(func.count()).select_from(_rows(f).subquery())) or 0


def dispute(session: Session, dispute_id: uuid.UUID) -> DisputeRow | None:
    row = session.execute(_rows(Filters()).where(Dispute.id == dispute_id)).first()
    return None if row is None else DisputeRow(*row)


def open_for_clients(
    session: Session, client_ids: Sequence[uuid.UUID]
) -> Sequence[tuple[uuid.UUID, uuid.UUID, str, Decimal, str, str]]:
    """(client id, id, invoice number, amount, kind, reason code) of the open disputes of these
    clients, oldest first: one query for a pull page."""
    if not client_ids:
        return []
    return session.execute(
        select(
            Dispute.client_id,
            Dispute.id,
            Dispute.invoice_number,
            Dispute.amount,
            Dispute.kind,
            Dispute.reason_code,
        )
        .where(Dispute.client_id.in_(client_ids), Dispute.status == "open")
        .order_by(Dispute.opened_at, Dispute.id)
    ).all()


def _open_at(at: datetime) -> list[ColumnElement[bool]]:
    """Open at the instant `at`: opened before it and not decided before it."""
    return [
        Dispute.opened_at < at,
        or_(Dispute.decided_at.is_(None), Dispute.decided_at >= at),
    ]


def open_on_invoices_at(
    session: Session, at: datetime, *, collector: str | None = None, segment: str | None = None
) -> Sequence[tuple[str | None, str, date, Decimal]]:
    """(collector username, segment, invoice due date, amount) of the disputes on known invoices
    open at `at`, summed per group: what aging shows apart as "en glosa"."""
    stmt = (
        select(User.username, Client.segment, Invoice.due_date, func.sum(Dispute.amount))
        .join(Client, Client.id == Dispute.client_id)
        .join(Invoice, Invoice.id == Dispute.invoice_id)
        .outerjoin(User, User.id == Client.collector_id)
        .where(*_open_at(at))
        .group_by(User.username, Client.segment, Invoice.due_date)
    )
    if collector is not None:
        stmt = stmt.where(User.username == collector)
    if segment is not None:
        stmt = stmt.where(Client.segment == segment)
    return session.execute(stmt).all()


@dataclass(frozen=True)
class DisputeCounts:
    open_count: int
    open_value: Decimal
    opened: int
    opened_value: Decimal
    accepted: int
    accepted_value: Decimal
    rejected: int


def period_counts(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    collector: str | None = None,
    segment: str | None = None,
) -> DisputeCounts:
    """Open at `end`, and opened / accepted / rejected in `start`..`end` (half open), for the
    clients of the scope (their current collector, their segment). One query."""
    in_period = and_(Dispute.decided_at >= start, Dispute.decided_at < end)
    opened = and_(Dispute.opened_at >= start, Dispute.opened_at < end)
    open_then = and_(*_open_at(end))
    accepted = and_(in_period, Dispute.status == "accepted")
    rejected = and_(in_period, Dispute.status == "rejected")
    stmt = (
        select(
            func.count().filter(open_then),
            func.sum(Dispute.amount).filter(open_then),
            func.count().filter(opened),
            func.sum(Dispute.amount).filter(opened),
            func.count().filter(accepted),
            func.sum(Dispute.accepted_amount).filter(accepted),
            func.count().filter(rejected),
        )
        .select_from(Dispute)
        .join(Client, Client.id == Dispute.client_id)
        .outerjoin(User, User.id == Client.collector_id)
    )
    if collector is not None:
        stmt = stmt.where(User.username == collector)
    if segment is not None:
        stmt = stmt.where(Client.segment == segment)
    row = session.execute(stmt).one()
    return DisputeCounts(
        open_count=row[0] or 0,
        open_value=row[1] or ZERO,
        opened=row[2] or 0,
        opened_value=row[3] or ZERO,
        accepted=row[4] or 0,
        accepted_value=row[5] or ZERO,
        rejected=row[6] or 0,
    )
