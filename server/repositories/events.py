"""Queries of the sync push: inbound events, counters, and what a void needs to find."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.models import (
    Client,
    Device,
    EventConflict,
    InboundEvent,
    LedgerEntry,
    SuspenseEntry,
    SyncCounter,
)

SERVER_SEQ = "server_seq"


def lock_device(session: Session, device_id: uuid.UUID) -> Device | None:
    """Serialize pushes of one device: on PostgreSQL the row stays locked until commit (SQLite
    runs one writer at a time anyway)."""
    return session.scalar(select(Device).where(Device.id == device_id).with_for_update())


def known_events(
    session: Session, event_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, InboundEvent]:
    if not event_ids:
        return {}
    rows = session.scalars(select(InboundEvent).where(InboundEvent.event_id.in_(event_ids)))
    return {row.event_id: row for row in rows}


def clients_by_id(session: Session, client_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Client]:
    if not client_ids:
        return {}
    return {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(client_ids)))}


def allocate_server_seqs(session: Session, count: int) -> int:
    """Reserve `count` consecutive server_seq values and answer the first. The UPDATE's row lock
    lasts until commit, so concurrent pushes get and publish their blocks in commit order."""
    last = session.execute(
        update(SyncCounter)
        .where(SyncCounter.name == SERVER_SEQ)
        .values(value=SyncCounter.value + count)
        .returning(SyncCounter.value)
    ).scalar_one()
    return int(last) - count + 1


def payment_entry(session: Session, event_id: uuid.UUID) -> LedgerEntry | None:
    return session.scalar(
        select(LedgerEntry).where(LedgerEntry.event_id == event_id, LedgerEntry.kind == "payment")
    )


def in_suspense(session: Session, event_id: uuid.UUID) -> bool:
    return (
        session.scalar(select(SuspenseEntry.id).where(SuspenseEntry.event_id == event_id))
        is not None
    )


def conflict_recorded(session: Session, event_id: uuid.UUID, content_hash: str) -> bool:
    found = session.scalar(
        select(EventConflict.id).where(
            EventConflict.event_id == event_id, EventConflict.content_hash == content_hash
        )
    )
    return found is not None


def events_of_device(session: Session, device_id: uuid.UUID) -> Sequence[InboundEvent]:
    return session.scalars(
        select(InboundEvent).where(InboundEvent.device_id == device_id).order_by(InboundEvent.id)
    ).all()
