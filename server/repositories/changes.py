"""Queries of the change log (sync pull): writing the latest change of an entity in a scope, and
reading a scope's changes after a seq. Every write is set-based: one statement per call."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlalchemy import Table, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from server.db.models import (
    ChangeLog,
    Client,
    InboundEvent,
    Invoice,
    LedgerEntry,
    Promise,
    SyncCounter,
    Visit,
)
from server.repositories.events import SERVER_SEQ
from shared.money import ZERO

CHANGE_FLOOR = "change_floor"
_BATCH = 8000  # ids per UPDATE … IN (…): under SQLite's 32,766 parameters
_T = TypeVar("_T")


@dataclass(frozen=True)
class ChangeRow:
    user_id: uuid.UUID
    entity: str
    entity_id: uuid.UUID
    seq: int
    op: str
    reason: str | None = None
    data: dict[str, Any] | None = None


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert_statement(dialect: str) -> Any:
    # Core, not the ORM's bulk path: plain rows, nothing to synchronize.
    table = cast(Table, ChangeLog.__table__)
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return stmt.on_conflict_do_update(
        index_elements=["user_id", "entity", "entity_id"],
        set_={
            "seq": stmt.excluded.seq,
            "op": stmt.excluded.op,
            "reason": stmt.excluded.reason,
            "data": stmt.excluded.data,
        },
    )


_UPSERTS = {name: _upsert_statement(name) for name in ("postgresql", "sqlite")}


def upsert(session: Session, rows: Sequence[ChangeRow]) -> None:
    """Write each row as the latest change of its (scope, entity, id): a new row, or the old one
    moved to the new seq with the new op, reason and data. One compiled statement run as the
    driver's executemany (a multi-VALUES statement costs more to compile than to run: 10x)."""
    if not rows:
        return
    session.execute(
        _UPSERTS[session.get_bind().dialect.name],
        [
            {
                "user_id": r.user_id,
                "entity": r.entity,
                "entity_id": r.entity_id,
                "seq": r.seq,
                "op": r.op,
                "reason": r.reason,
                "data": r.data,
            }
            for r in rows
        ],
    )


def bump_versions(
    session: Session, client_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    """Add one to each client's version; answer (client id, collector id) of the clients found,
    ordered by id (a stable order for the seqs they get)."""
    found: list[tuple[uuid.UUID, uuid.UUID | None]] = []
    ids = sorted(set(client_ids))
    for batch in _chunks(ids, _BATCH):
        result = session.execute(
            update(Client)
            .where(Client.id.in_(batch))
            .values(version=Client.version + 1)
            .returning(Client.id, Client.collector_id),
            execution_options={"synchronize_session": False},
        )
        found.extend((row[0], row[1]) for row in result)
    found.sort(key=lambda row: row[0])
    return found


def counter_value(session: Session, name: str = SERVER_SEQ) -> int:
    """The committed value of a counter as this transaction sees it (no lock taken)."""
    return int(session.scalar(select(SyncCounter.value).where(SyncCounter.name == name)) or 0)


def raise_floor(session: Session, floor: int) -> None:
    session.execute(
        update(SyncCounter)
        .where(SyncCounter.name == CHANGE_FLOOR, SyncCounter.value < floor)
        .values(value=floor)
    )


def delete_removes_before(session: Session, seq: int) -> int:
    """Forget `remove` rows older than `seq` (the only rows that never go stale by themselves)."""
    result = session.execute(delete(ChangeLog).where(ChangeLog.op == "remove", ChangeLog.seq < seq))
    return int(getattr(result, "rowcount", 0) or 0)


def changes_after(
    session: Session, user_id: uuid.UUID, after: int, *, limit: int, skip_clients_upto: int = 0
) -> Sequence[ChangeLog]:
    """Up to `limit` changes of a scope with seq > `after`, in seq order. Client rows at or below
    `skip_clients_upto` are left out (a first sync's snapshot already covered them)."""
    stmt = select(ChangeLog).where(ChangeLog.user_id == user_id, ChangeLog.seq > after)
    if skip_clients_upto > after:
        stmt = stmt.where((ChangeLog.entity != "client") | (ChangeLog.seq > skip_clients_upto))
    return session.scalars(stmt.order_by(ChangeLog.seq).limit(limit)).all()


def scope_clients_after(
    session: Session, user_id: uuid.UUID, after: uuid.UUID | None, *, limit: int
) -> Sequence[Client]:
    """Up to `limit` of the collector's current clients with id > `after`, by id."""
    stmt = select(Client).where(Client.collector_id == user_id)
    if after is not None:
        stmt = stmt.where(Client.id > after)
    # populate_existing: a Client already in this session may predate a version bump in SQL.
    return session.scalars(
        stmt.order_by(Client.id).limit(limit).execution_options(populate_existing=True)
    ).all()


def clients_by_ids(session: Session, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Client]:
    if not ids:
        return {}
    stmt = select(Client).where(Client.id.in_(ids)).execution_options(populate_existing=True)
    return {c.id: c for c in session.scalars(stmt)}


def scope_versions(session: Session, user_id: uuid.UUID) -> list[tuple[uuid.UUID, int, Decimal]]:
    """(id, version, balance) of every client of the collector: what the checksum covers."""
    rows = session.execute(
        select(Client.id, Client.version, Client.balance).where(Client.collector_id == user_id)
    ).all()
    return [(r[0], int(r[1]), r[2]) for r in rows]


# --- what a client put carries (computed when read) -------------------------------------------


def open_invoices(
    session: Session, client_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, str, date, Decimal]]:
    """(client id, number, due date, balance) of invoices with a balance, oldest due first."""
    if not client_ids:
        return []
    rows = session.execute(
        select(Invoice.client_id, Invoice.number, Invoice.due_date, Invoice.balance)
        .where(Invoice.client_id.in_(client_ids), Invoice.balance != ZERO)
        .order_by(Invoice.client_id, Invoice.due_date, Invoice.number)
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def recent_visits(
    session: Session, client_ids: Collection[uuid.UUID], per_client: int
) -> list[tuple[uuid.UUID, datetime, str]]:
    """(client id, device time, outcome) of each client's last `per_client` visits, newest
    first (a window function: both engines have row_number)."""
    if not client_ids:
        return []
    rank = (
        func.row_number()
        .over(
            partition_by=Visit.client_id,
            order_by=(Visit.device_time.desc(), Visit.id.desc()),
        )
        .label("rank")
    )
    inner = (
        select(Visit.client_id, Visit.device_time, Visit.outcome, rank)
        .where(Visit.client_id.in_(client_ids))
        .subquery()
    )
    rows = session.execute(
        select(inner.c.client_id, inner.c.device_time, inner.c.outcome)
        .where(inner.c.rank <= per_client)
        .order_by(inner.c.client_id, inner.c.rank)
    ).all()
    return [(r[0], _aware(r[1]), r[2]) for r in rows]


def promises_due_since(
    session: Session, client_ids: Collection[uuid.UUID], since: date
) -> list[tuple[uuid.UUID, datetime, date, Decimal]]:
    """(client id, made at, due date, amount) of promises due on or after `since`."""
    if not client_ids:
        return []
    rows = session.execute(
        select(Promise.client_id, Promise.device_time, Promise.due_date, Promise.amount)
        .where(Promise.client_id.in_(client_ids), Promise.due_date >= since)
        .order_by(Promise.client_id, Promise.due_date, Promise.id)
    ).all()
    return [(r[0], _aware(r[1]), r[2], r[3]) for r in rows]


def standing_payments_since(
    session: Session, client_ids: Collection[uuid.UUID], since: date
) -> list[tuple[uuid.UUID, datetime, Decimal]]:
    """(client id, paid at, amount > 0) of payments effective on or after `since` that were not
    reversed. Paid at is the phone's time of a synced payment, else when it was recorded."""
    if not client_ids:
        return []
    reversal = aliased(LedgerEntry)
    rows = session.execute(
        select(
            LedgerEntry.client_id,
            func.coalesce(InboundEvent.device_time, LedgerEntry.recorded_at),
            LedgerEntry.amount,
        )
        .outerjoin(InboundEvent, InboundEvent.event_id == LedgerEntry.event_id)
        .where(
            LedgerEntry.client_id.in_(client_ids),
            LedgerEntry.kind == "payment",
            LedgerEntry.effective_date >= since,
            ~exists().where(reversal.reverses_id == LedgerEntry.id),
        )
    ).all()
    return [(r[0], _aware(r[1]), -r[2]) for r in rows]


def _aware(value: datetime | str) -> datetime:
    """SQLite hands back a coalesce() of datetimes as text, and plain columns naive."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
