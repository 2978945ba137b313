"""Queries of reconciliations (conciliaciones): the agenda, one reconciliation with its client
and people, and its items."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from server.db.models import Client, Reconciliation, ReconciliationItem, User


@dataclass(frozen=True)
class ReconciliationRow:
    reconciliation: Reconciliation
    client_code: str
    client_name: str
    client_tax_id: str
    collector: str | None
    created_by: str
    completed_by: str | None


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    start: date | None = None  # scheduled_for from (inclusive)
    end: date | None = None  # scheduled_for to (inclusive)
    client_id: uuid.UUID | None = None
    collector: str | None = None


def _rows(f: Filters) -> Select[*tuple[Any, ...]]:
    collector, creator, completer = aliased(User), aliased(User), aliased(User)
    stmt = (
        select(
            Reconciliation,
            Client.code,
            Client.name,
            Client.tax_id,
            collector.username,
            creator.username,
            completer.username,
        )
        .join(Client, Client.id == Reconciliation.client_id)
        .outerjoin(collector, collector.id == Client.collector_id)
        .join(creator, creator.id == Reconciliation.created_by)
        .outerjoin(completer, completer.id == Reconciliation.completed_by)
    )
    if f.status is not None:
        stmt = stmt.where(Reconciliation.status == f.status)
    if f.start is not None:
        stmt = stmt.where(Reconciliation.scheduled_for >= f.start)
    if f.end is not None:
        stmt = stmt.where(Reconciliation.scheduled_for <= f.end)
    if f.client_id is not None:
        stmt = stmt.where(Reconciliation.client_id == f.client_id)
    if f.collector is not None:
        stmt = stmt.where(collector.username == f.collector)
    return stmt


def reconciliations(
    session: Session, f: Filters, *, limit: int, offset: int
) -> list[ReconciliationRow]:
    """The soonest scheduled first (then the latest done)."""
    stmt = (
        _rows(f)
        .order_by(Reconciliation.scheduled_for, Reconciliation.created_at, Reconciliation.id)
        .limit(limit)
        .offset(offset)
    )
    return [ReconciliationRow(*row) for row in session.execute(stmt).all()]


def count(session: Session, f: Filters) -> int:
    return session.scalar(select(func.count()).select_from(_rows(f).subquery())) or 0


def reconciliation(session: Session, reconciliation_id: uuid.UUID) -> ReconciliationRow | None:
    row = session.execute(_rows(Filters()).where(Reconciliation.id == reconciliation_id)).first()
    return None if row is None else ReconciliationRow(*row)


def lock(session: Session, reconciliation_id: uuid.UUID) -> Reconciliation | None:
    return session.scalar(
        select(Reconciliation).where(Reconciliation.id == reconciliation_id).with_for_update()
    )


def items_of(session: Session, reconciliation_id: uuid.UUID) -> Sequence[ReconciliationItem]:
    return session.scalars(
        select(ReconciliationItem)
        .where(ReconciliationItem.reconciliation_id == reconciliation_id)
        .order_by(ReconciliationItem.id)
    ).all()
