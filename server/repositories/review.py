"""Queries of the review queue: items with what a supervisor needs to decide (the event, its
collector, the client, the money and where it went, a visit's evidence), and the row locks of a
resolution."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from server.db.models import (
    Client,
    InboundEvent,
    LedgerEntry,
    ReviewItem,
    SuspenseEntry,
    User,
    Visit,
)

_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class ReviewRow:
    id: int
    kind: str
    reason: str
    status: str
    created_at: datetime
    event_id: uuid.UUID
    event_type: str | None
    device_time: datetime | None
    collector_id: uuid.UUID | None
    collector: str | None
    client_id: uuid.UUID | None
    client_code: str | None
    client_name: str | None
    suspense_amount: Decimal | None  # the money parked in suspense (payment events)
    entry_amount: Decimal | None  # the ledger payment entry of the event (negative), if any
    entry_source: str | None
    visit_flags: str | None
    visit_distance_m: float | None
    visit_accuracy_m: float | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    note: str


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    status: str | None = "open"  # None: every status
    collector: str | None = None  # username


def _base() -> Select[*tuple[Any, ...]]:
    collector = aliased(User)
    resolver = aliased(User)
    return (
        select(
            ReviewItem.id,
            ReviewItem.kind,
            ReviewItem.reason,
            ReviewItem.status,
            ReviewItem.created_at,
            ReviewItem.event_id,
            InboundEvent.type,
            InboundEvent.device_time,
            InboundEvent.user_id,
            collector.username,
            ReviewItem.client_id,
            Client.code,
            Client.name,
            SuspenseEntry.amount,
            LedgerEntry.amount,
            LedgerEntry.source,
            Visit.flags,
            Visit.distance_m,
            Visit.accuracy_m,
            ReviewItem.resolved_at,
            resolver.username,
            ReviewItem.resolution,
            ReviewItem.note,
        )
        .select_from(ReviewItem)
        .outerjoin(InboundEvent, InboundEvent.event_id == ReviewItem.event_id)
        .outerjoin(collector, collector.id == InboundEvent.user_id)
        .outerjoin(Client, Client.id == ReviewItem.client_id)
        .outerjoin(SuspenseEntry, SuspenseEntry.event_id == ReviewItem.event_id)
        .outerjoin(LedgerEntry, LedgerEntry.event_id == ReviewItem.event_id)
        .outerjoin(Visit, Visit.event_id == ReviewItem.event_id)
        .outerjoin(resolver, resolver.id == ReviewItem.resolved_by)
    )


def _filtered(query: _S, filters: Filters) -> _S:
    if filters.kind is not None:
        query = query.where(ReviewItem.kind == filters.kind)
    if filters.status is not None:
        query = query.where(ReviewItem.status == filters.status)
    if filters.collector is not None:
        query = query.where(
            ReviewItem.event_id.in_(
                select(InboundEvent.event_id)
                .join(User, User.id == InboundEvent.user_id)
                .where(User.username == filters.collector)
            )
        )
    return query


def items(session: Session, filters: Filters, *, limit: int, offset: int) -> list[ReviewRow]:
    """Oldest first (the queue's order), a page of them."""
    query = _filtered(_base(), filters).order_by(ReviewItem.id).limit(limit).offset(offset)
    return [ReviewRow(*r) for r in session.execute(query)]


def count(session: Session, filters: Filters) -> int:
    query = _filtered(select(func.count()).select_from(ReviewItem), filters)
    return int(session.scalar(query) or 0)


def item(session: Session, item_id: int) -> ReviewRow | None:
    row = session.execute(_base().where(ReviewItem.id == item_id)).first()
    return None if row is None else ReviewRow(*row)


def lock_item(session: Session, item_id: int) -> ReviewItem | None:
    """The item, its row locked until commit on PostgreSQL: two supervisors resolving it at once
    are serialized, and the second sees it resolved."""
    return session.scalar(select(ReviewItem).where(ReviewItem.id == item_id).with_for_update())


def suspense_of(session: Session, event_id: uuid.UUID) -> SuspenseEntry | None:
    return session.scalar(select(SuspenseEntry).where(SuspenseEntry.event_id == event_id))


def entry_of_event(session: Session, event_id: uuid.UUID) -> LedgerEntry | None:
    return session.scalar(select(LedgerEntry).where(LedgerEntry.event_id == event_id))


def lock_client(session: Session, client_id: uuid.UUID) -> Client | None:
    return session.scalar(
        select(Client).where(Client.id == client_id).with_for_update(key_share=True)
    )
