"""Applying pull pages to the client mirror (sync-protocol.md, "Pull").

Each page is applied in ONE local transaction together with its cursor, so a crash leaves the
mirror either before or after the page, and the next pull asks again from the stored cursor. A
client `put` is applied only when its `version` is newer than the mirrored one, and then records
the change's `seq` in `change_seq` (the balance shown subtracts acknowledged payments the mirror
does not reflect yet). A resync clears the mirror and the cursor; it never touches the outbox.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import ClientMirror, EventStatus
from mobile.services.device import sync_state
from shared.calendar import require_aware
from shared.money import ZERO, money
from sync.checksum import scope_digest
from sync.protocol import Change, ClientData, EventStatusData, PullResponse, ScopeChecksum


@dataclass(frozen=True)
class PageApplied:
    puts: int  # client rows written
    removes: int  # client rows deleted
    skipped: int  # client puts not newer than the mirror
    statuses: int  # event_status rows written or deleted


def _json_list(items: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in items]


def _write_client(row: ClientMirror, change: Change, data: ClientData, now: datetime) -> None:
    row.code, row.name, row.segment = data.code, data.name, data.segment
    row.address, row.city, row.status = data.address, data.city, data.status
    row.lat, row.lon = data.lat, data.lon
    row.phones, row.channels = list(data.phones), list(data.channels)
    row.balance = data.balance
    row.open_invoices = _json_list(data.invoices)
    row.promises = _json_list(data.promises)
    row.visits = _json_list(data.visits)
    row.agreements = _json_list(data.agreements)
    row.disputes = _json_list(data.disputes)
    row.legal = data.legal
    row.version = change.version if change.version is not None else row.version or 0
    row.change_seq = change.seq
    row.updated_at = now


def _put_client(
    session: Session, mirror: dict[str, ClientMirror | None], change: Change, now: datetime
) -> bool:
    row = mirror.get(change.id)
    if row is not None and change.version is not None and change.version <= row.version:
        return False
    data = ClientData.model_validate(change.data or {})
    if row is None:
        row = ClientMirror(id=change.id)
        session.add(row)
        mirror[change.id] = row
    _write_client(row, change, data, now)
    return True


def _remove_client(session: Session, mirror: dict[str, ClientMirror | None], key: str) -> bool:
    row = mirror.get(key)
    if row is None:
        return False
    session.delete(row)
    session.flush()  # a later put of the same id in this page inserts a fresh row
    mirror[key] = None
    return True


def _apply_status(session: Session, change: Change, now: datetime) -> None:
    row = session.get(EventStatus, change.id)
    if change.op == "remove":
        if row is not None:
            session.delete(row)
        return
    if row is not None and row.seq > change.seq:
        return  # a later word on this event is already here
    data = EventStatusData.model_validate(change.data or {})
    if row is None:
        row = EventStatus(event_id=change.id)
        session.add(row)
    row.status, row.note, row.seq, row.updated_at = data.status, data.note, change.seq, now


def apply_page(db: sessionmaker[Session], page: PullResponse, *, now: datetime) -> PageApplied:
    """Apply one page and store its `next_cursor`, all in one transaction."""
    require_aware(now, "now")
    puts = removes = skipped = statuses = 0
    with db.begin() as session:
        ids = [c.id for c in page.changes if c.entity == "client"]
        found = session.scalars(select(ClientMirror).where(ClientMirror.id.in_(ids))).all()
        mirror: dict[str, ClientMirror | None] = {row.id: row for row in found}
        for change in page.changes:
            if change.entity == "event_status":
                _apply_status(session, change, now)
                statuses += 1
            elif change.op == "remove":
                removes += _remove_client(session, mirror, change.id)
            elif _put_client(session, mirror, change, now):
                puts += 1
            else:
                skipped += 1
        sync_state(session).cursor = page.next_cursor
    return PageApplied(puts, removes, skipped, statuses)


def clear_mirror(session: Session) -> None:
    """Forget the mirrored clients and the cursor (the next pull starts from zero). Event
    statuses are kept: they are the server's word about this phone's own events and a pull from
    zero rewrites them when newer. The outbox is never touched."""
    session.execute(delete(ClientMirror))
    sync_state(session).cursor = ""


def resync(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        clear_mirror(session)


@dataclass(frozen=True)
class ScopeSummary:
    clients: int
    balance_sum: Decimal


def scope_summary(session: Session) -> ScopeSummary:
    # func.sum keeps the column's Money type, so the cents come back as a Decimal.
    count, total = session.execute(select(func.count(), func.sum(ClientMirror.balance))).one()
    return ScopeSummary(int(count), money(total) if total is not None else ZERO)


def checksum_mismatch(session: Session, checksum: ScopeChecksum) -> str | None:
    """Why the mirror disagrees with the server's scope checksum, or None when it agrees."""
    local = scope_summary(session)
    if local.clients != checksum.clients:
        return f"clients: {local.clients} here, {checksum.clients} on the server"
    if local.balance_sum != checksum.balance_sum:
        return f"balance sum: {local.balance_sum} here, {checksum.balance_sum} on the server"
    versions = session.execute(select(ClientMirror.id, ClientMirror.version)).all()
    try:
        digest = scope_digest((uuid.UUID(cid), version) for cid, version in versions)
    except ValueError:
        return "a mirrored client id is not a UUID"
    if digest != checksum.digest:
        return "the clients' versions differ from the server's"
    return None
