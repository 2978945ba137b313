"""Appending to the change log that `GET /v1/sync/pull` reads (sync-protocol.md, "Pull").

Every function takes its seqs from the same counter as inbound `server_seq`
(`events_repo.allocate_server_seqs`: the counter row stays locked until commit), so seqs become
visible in commit order, and a change written after a chunk's events got their server_seq has a
greater seq than every event it reflects. Callers write changes last in their transaction, after
the effects they describe. Never commits.

Lock order: the counter is the LAST lock a transaction takes (PostgreSQL). A transaction that
holds it while waiting for a client, invoice or change-log row another pusher holds, and that
pusher waiting for the counter, is a deadlock. So row locks come first (`bump_clients` locks
clients in id order), then one `append`/`publish`; the change-log upsert after the counter only
meets rows of transactions that already committed (they held the counter).

Scope = collector: a client change goes to the scope of the client's collector at that moment
(no scope while unassigned). A closed client stays in its collector's scope as a `put` with status
`closed` (payments to it are still recorded, held for review), so closing is `clients_changed`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import replace

from sqlalchemy.orm import Session

from server.repositories import changes as changes_repo
from server.repositories import events as events_repo
from server.repositories.changes import ChangeRow
from sync.protocol import EventStatusData

CLIENT = "client"
EVENT_STATUS = "event_status"
REASSIGNED = "reassigned"


def clients_changed(session: Session, client_ids: Collection[uuid.UUID]) -> None:
    """Bump each client's `version` and append one `put` in its collector's scope. Unknown ids
    are ignored. Three statements whatever the number of clients (an UPDATE … RETURNING, the
    counter, one upsert)."""
    append(session, client_puts(bump_clients(session, client_ids)))


def clients_put(session: Session, owned: Sequence[tuple[uuid.UUID, uuid.UUID | None]]) -> None:
    """A `put` for each (client id, collector id) whose version the caller already bumped (or
    that is new); unassigned clients have no scope. Two statements."""
    append(session, client_puts(owned))


def clients_removed(
    session: Session, items: Sequence[tuple[uuid.UUID, uuid.UUID]], reason: str = REASSIGNED
) -> None:
    """A `remove` of each (client id, former collector id) from that collector's scope."""
    append(session, client_removes(items, reason))


def event_statuses(
    session: Session, user_id: uuid.UUID, items: Sequence[tuple[uuid.UUID, str, str]]
) -> None:
    """(event_id, status, note): a `put` of entity event_status in that collector's scope."""
    append(session, event_status_puts(user_id, items))


# Unnumbered rows (seq 0) and their numbering: a transaction that takes other row locks gathers
# its change rows first, then takes the counter once, as its last lock (`publish`).


def bump_clients(
    session: Session, client_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    """Add one to each client's version (row locks, in id order): (client id, collector id)."""
    return changes_repo.bump_versions(session, client_ids) if client_ids else []


def client_puts(owned: Sequence[tuple[uuid.UUID, uuid.UUID | None]]) -> list[ChangeRow]:
    return [ChangeRow(owner, CLIENT, cid, 0, "put") for cid, owner in owned if owner is not None]


def client_removes(
    items: Sequence[tuple[uuid.UUID, uuid.UUID]], reason: str = REASSIGNED
) -> list[ChangeRow]:
    return [ChangeRow(old, CLIENT, cid, 0, "remove", reason) for cid, old in items]


def event_status_puts(
    user_id: uuid.UUID, items: Sequence[tuple[uuid.UUID, str, str]]
) -> list[ChangeRow]:
    return [
        ChangeRow(
            user_id,
            EVENT_STATUS,
            event_id,
            0,
            "put",
            data=EventStatusData(status=status, note=note).model_dump(exclude_defaults=True),
        )
        for event_id, status, note in items
    ]


def append(session: Session, rows: Sequence[ChangeRow]) -> None:
    """Number `rows` from the counter (locked until commit) and write them."""
    if rows:
        publish(session, rows, events_repo.allocate_server_seqs(session, len(rows)))


def publish(session: Session, rows: Sequence[ChangeRow], first: int) -> None:
    """Write `rows` with the seqs `first`, `first + 1`, … the caller took from the counter."""
    changes_repo.upsert(session, [replace(r, seq=first + i) for i, r in enumerate(rows)])


def client_reassigned(
    session: Session,
    client_id: uuid.UUID,
    old_collector: uuid.UUID | None,
    new_collector: uuid.UUID | None,
) -> None:
    """After `client.collector_id` moved (same transaction, already flushed): a `remove`
    (reason `reassigned`) for the old scope, then a full `put` (version bumped) for the new."""
    owned = bump_clients(session, [client_id])  # row locks before the counter
    gone = []
    if old_collector is not None and old_collector != new_collector:
        gone = client_removes([(client_id, old_collector)])
    append(session, gone + client_puts(owned))


def prune_removes(session: Session, before_seq: int) -> int:
    """Forget `remove` rows older than `before_seq` and refuse cursors older than that from now on
    (they could have missed a remove): such phones resync. Answers how many rows went."""
    changes_repo.raise_floor(session, before_seq)
    return changes_repo.delete_removes_before(session, before_seq)
