"""Queries of the sync push: inbound events, counters, and what a void needs to find. Set-based:
one statement per kind of row for a whole chunk."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Uuid, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from server.db.models import (
    AgreementInstallment,
    CashHandover,
    Client,
    Device,
    Dispute,
    EventConflict,
    HandoverPayment,
    InboundEvent,
    PaymentAgreement,
    Promise,
    ReviewItem,
    RoutePlan,
    SuspenseEntry,
    SyncCounter,
    Visit,
)
from server.repositories import bulk

SERVER_SEQ = "server_seq"


@dataclass(frozen=True)
class KnownEvent:
    """What a duplicate is answered with, and what tells it from a conflict."""

    content_hash: str
    server_seq: int
    status: str
    reason: str | None


@dataclass(frozen=True)
class ClientFacts:
    """What the push rules read of a client (never loaded as an ORM object)."""

    id: uuid.UUID
    status: str
    collector_id: uuid.UUID | None
    balance: Decimal
    lat: float | None = None  # the known location (ledger or learned), to verify visits
    lon: float | None = None


def lock_device(session: Session, device_id: uuid.UUID) -> Device | None:
    """Serialize pushes of one device: on PostgreSQL the row stays locked until commit (SQLite
    runs one writer at a time anyway)."""
    return session.scalar(select(Device).where(Device.id == device_id).with_for_update())


def known_events(session: Session, event_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, KnownEvent]:
    if not event_ids:
        return {}
    rows = session.execute(
        select(
            InboundEvent.event_id,
            InboundEvent.content_hash,
            InboundEvent.server_seq,
            InboundEvent.status,
            InboundEvent.reason,
        ).where(_among(session, event_ids))
    )
    return {r[0]: KnownEvent(r[1], r[2], r[3], r[4]) for r in rows}


def _among(session: Session, event_ids: Collection[uuid.UUID]) -> ColumnElement[bool]:
    """`event_id = ANY(:ids)` on PostgreSQL (one array parameter, one cached plan whatever the
    chunk size); an IN list elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        return InboundEvent.event_id == any_(bindparam("ids", list(event_ids), type_=ARRAY(Uuid())))
    return InboundEvent.event_id.in_(event_ids)


def lock_clients(
    session: Session, client_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, ClientFacts]:
    """The facts of these clients, their rows locked until commit on PostgreSQL in id order (the
    first row locks of a chunk after its device: every pusher takes them in the same order).
    FOR NO KEY UPDATE: the push only moves balances and versions, so other transactions' foreign
    keys to these clients (visits, entries) are not blocked."""
    if not client_ids:
        return {}
    rows = session.execute(
        select(
            Client.id, Client.status, Client.collector_id, Client.balance, Client.lat, Client.lon
        )
        .where(Client.id.in_(client_ids))
        .order_by(Client.id)
        .with_for_update(key_share=True)
    )
    return {r[0]: ClientFacts(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows}


# A client's location is learned from its latest good fixes: this many at most are kept.
LEARNING_FIXES_READ = 20


def learning_fixes(
    session: Session, client_ids: Collection[uuid.UUID], *, max_accuracy_m: float
) -> dict[uuid.UUID, list[tuple[float, float]]]:
    """(lat, lon) of the latest visits to these clients whose fix is good enough to learn where
    they are (accuracy within `max_accuracy_m`, no clock flag), oldest first: one plain query
    (a client is learned after a few agreeing fixes, so there are few rows; a window function
    to cap them per client in SQL cost more than it saved)."""
    if not client_ids:
        return {}
    rows = session.execute(
        select(Visit.client_id, Visit.lat, Visit.lon)
        .where(
            Visit.client_id.in_(client_ids),
            Visit.lat.is_not(None),
            Visit.lon.is_not(None),
            Visit.accuracy_m <= max_accuracy_m,
            Visit.flags.not_like("%clock_%"),
        )
        .order_by(Visit.id)
    )
    found: dict[uuid.UUID, list[tuple[float, float]]] = {}
    for client_id, lat, lon in rows:
        if lat is not None and lon is not None:  # the query's condition, for the type checker
            found.setdefault(client_id, []).append((lat, lon))
    return {cid: fixes[-LEARNING_FIXES_READ:] for cid, fixes in found.items()}


def set_learned_locations(
    session: Session, locations: Mapping[uuid.UUID, tuple[float, float]]
) -> None:
    """Give clients that still have no location the one learned from visits (a location that
    arrived meanwhile, from the ledger, is kept)."""
    for client_id, (lat, lon) in locations.items():
        session.execute(
            update(Client)
            .where(Client.id == client_id, Client.lat.is_(None))
            .values(lat=lat, lon=lon, location_source="learned")
        )


def allocate_server_seqs(session: Session, count: int) -> int:
    """Reserve `count` consecutive server_seq values and answer the first. The UPDATE's row lock
    lasts until commit, so concurrent pushes get and publish their blocks in commit order. Take
    it as the LAST lock of a transaction (see server/services/changes.py): waiting for any other
    row while holding it deadlocks against a pusher that holds that row."""
    last = session.execute(
        update(SyncCounter)
        .where(SyncCounter.name == SERVER_SEQ)
        .values(value=SyncCounter.value + count)
        .returning(SyncCounter.value)
    ).scalar_one()
    return int(last) - count + 1


def in_suspense(session: Session, event_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these payment events were parked in suspense."""
    if not event_ids:
        return set()
    found = session.scalars(
        select(SuspenseEntry.event_id).where(SuspenseEntry.event_id.in_(event_ids))
    )
    return set(found)


def recorded_conflicts(
    session: Session, keys: Collection[tuple[uuid.UUID, str]]
) -> set[tuple[uuid.UUID, str]]:
    """Which (event_id, content_hash) pairs are already kept as conflicts."""
    if not keys:
        return set()
    ids = {event_id for event_id, _ in keys}
    rows = session.execute(
        select(EventConflict.event_id, EventConflict.content_hash).where(
            EventConflict.event_id.in_(ids)
        )
    )
    return {(r[0], r[1]) for r in rows} & set(keys)


# The models the push writes in bulk, by the name its row lists go under.
_BULK_MODELS: Mapping[str, type[Any]] = {
    "suspense": SuspenseEntry,
    "visits": Visit,
    "promises": Promise,
    "conflicts": EventConflict,
    "reviews": ReviewItem,
    "inbound": InboundEvent,
    "route_plans": RoutePlan,
    # issue 7: collections work from the field (parents before children: FK order)
    "agreements": PaymentAgreement,
    "installments": AgreementInstallment,
    "disputes": Dispute,
    "handovers": CashHandover,
    "handover_payments": HandoverPayment,
}


def insert_rows(session: Session, kind: str, rows: Sequence[dict[str, Any]]) -> None:
    """One bulk statement for a list of rows with the same keys (every column with a default
    named: see server/repositories/bulk.py)."""
    bulk.insert_rows(session, _BULK_MODELS[kind], rows)


def events_of_device(session: Session, device_id: uuid.UUID) -> Sequence[InboundEvent]:
    return session.scalars(
        select(InboundEvent).where(InboundEvent.device_id == device_id).order_by(InboundEvent.id)
    ).all()
