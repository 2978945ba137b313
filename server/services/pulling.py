"""The pull use case (sync-protocol.md, "Pull"): one page of a collector's scope after a cursor.

Consistency: the whole page is read in one snapshot (the route opens the transaction REPEATABLE
READ on PostgreSQL; on SQLite one transaction is one snapshot). Seqs are commit-ordered, so every
seq at or below the counter value seen in the snapshot is committed and visible, and none above
it is. Hence:
- a snapshot client put carries that counter value as its seq: every event at or below it is in
  the data, none above it;
- a log client put carries its row's seq: the row is the client's latest change in this scope
  (one row per entity, moved up on every change), and every event that touched the client wrote a
  later change, so events at or below it are in the data and events above it are not;
- a page that reaches the end of the log moves the cursor to the counter value, never past an
  uncommitted seq.
Never writes, except the server epoch on a brand-new database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from server.db.models import ChangeLog, Client
from server.repositories import changes as changes_repo
from server.services.access import Actor
from server.services.changes import CLIENT, REASSIGNED
from server.services.devices import current_server_epoch
from server.services.pull_cursor import Cursor, decode, resync_required
from server.services.pull_data import client_data
from shared.errors import Unauthenticated
from sync.checksum import scope_checksum
from sync.protocol import Change, PullResponse

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000


def pull(
    session: Session,
    actor: Actor,
    cursor: str | None,
    *,
    limit: int,
    now: datetime,
    tz: tzinfo,
    edges: Sequence[int],
) -> PullResponse:
    if actor.device_id is None:
        raise Unauthenticated("sync needs a device token", code="device_token_required")
    top = changes_repo.counter_value(session)  # first read: fixes what this snapshot sees
    floor = changes_repo.counter_value(session, changes_repo.CHANGE_FLOOR)
    epoch = current_server_epoch(session, now=now)
    if cursor:
        at = decode(cursor)
        if at.epoch != epoch:
            raise resync_required("epoch_changed")
        if max(at.seq, at.snapshot) < floor:
            raise resync_required("cursor_expired")
    else:
        at = Cursor(epoch=epoch, snapshot=top, in_snapshot=True)
    page = _Page(session, actor.user_id, now=now, tz=tz, edges=edges)
    if at.in_snapshot:
        more = page.snapshot(at.after_client, top, limit)
        if more:
            last = page.last_client
            return page.response(epoch, Cursor(epoch, 0, at.snapshot, last, True), True)
        at = Cursor(epoch=epoch, seq=0, snapshot=at.snapshot)
    more, last_seq = page.log(at, limit - len(page.changes))
    # At the end of the log everything up to `top` was seen: move there (past the floor too).
    next_at = Cursor(epoch, last_seq if more else max(top, at.seq), at.snapshot)
    return page.response(epoch, next_at, more)


class _Page:
    def __init__(
        self,
        session: Session,
        user_id: uuid.UUID,
        *,
        now: datetime,
        tz: tzinfo,
        edges: Sequence[int],
    ) -> None:
        self.session, self.user_id = session, user_id
        self.now, self.tz, self.edges = now, tz, edges
        self.changes: list[Change] = []
        self.last_client: uuid.UUID | None = None

    def snapshot(self, after: uuid.UUID | None, top: int, limit: int) -> bool:
        """Puts of the scope's current clients after `after`; True when more remain."""
        found = changes_repo.scope_clients_after(self.session, self.user_id, after, limit=limit + 1)
        clients = found[:limit]
        data = client_data(self.session, clients, now=self.now, tz=self.tz, edges=self.edges)
        self.changes.extend(_put(top, c, data[c.id]) for c in clients)
        if clients:
            self.last_client = clients[-1].id
        return len(found) > limit

    def log(self, at: Cursor, room: int) -> tuple[bool, int]:
        """Changes after the cursor's seq; (more remain, seq of the last one sent)."""
        if room <= 0:
            probe = changes_repo.changes_after(
                self.session, self.user_id, at.seq, limit=1, skip_clients_upto=at.snapshot
            )
            return bool(probe), at.seq
        rows = changes_repo.changes_after(
            self.session, self.user_id, at.seq, limit=room + 1, skip_clients_upto=at.snapshot
        )
        more = len(rows) > room
        rows = rows[:room]
        wanted = [r.entity_id for r in rows if r.entity == CLIENT and r.op == "put"]
        clients = changes_repo.clients_by_ids(self.session, wanted)
        mine = [c for c in clients.values() if c.collector_id == self.user_id]
        data = client_data(self.session, mine, now=self.now, tz=self.tz, edges=self.edges)
        # A client this page's snapshot part already sent needs no second put: the snapshot's
        # data and seq already cover every change up to this snapshot.
        sent = {ch.id for ch in self.changes}
        self.changes.extend(
            _change(r, clients.get(r.entity_id), data, self.user_id)
            for r in rows
            if not (r.entity == CLIENT and str(r.entity_id) in sent)
        )
        return more, rows[-1].seq if rows else at.seq

    def response(self, epoch: str, next_at: Cursor, more: bool) -> PullResponse:
        checksum = None
        if not more:
            checksum = scope_checksum(changes_repo.scope_versions(self.session, self.user_id))
        return PullResponse(
            server_epoch=epoch,
            changes=tuple(self.changes),
            next_cursor=next_at.encode(),
            has_more=more,
            scope_checksum=checksum,
        )


def _put(seq: int, client: Client, data: dict[str, object]) -> Change:
    return Change(
        seq=seq, entity="client", id=str(client.id), op="put", version=client.version, data=data
    )


def _change(
    row: ChangeLog,
    client: Client | None,
    data: dict[uuid.UUID, dict[str, object]],
    user_id: uuid.UUID,
) -> Change:
    if row.entity != CLIENT:
        return Change(
            seq=row.seq, entity="event_status", id=str(row.entity_id), op="put", data=row.data
        )
    if row.op == "put" and client is not None and client.collector_id == user_id:
        return _put(row.seq, client, data[client.id])
    # A put whose client left the scope without a logged remove cannot be sent as a put: the
    # scope no longer holds it, so it is a remove (and the checksum still tells the truth).
    return Change(
        seq=row.seq,
        entity="client",
        id=str(row.entity_id),
        op="remove",
        reason=row.reason or REASSIGNED,
    )
