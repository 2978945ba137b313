"""Appending to the change log that `GET /v1/sync/pull` reads (sync-protocol.md, "Pull").

Every function takes its seqs from the same counter as inbound `server_seq`
(`events_repo.allocate_server_seqs`: the counter row stays locked until commit), so seqs become
visible in commit order, and a change written after a chunk's events got their server_seq has a
greater seq than every event it reflects. Callers write changes last in their transaction, after
the effects they describe. Never commits.

Scope = collector: a client change goes to the scope of the client's collector at that moment
(no scope while unassigned). A closed client stays in its collector's scope as a `put` with status
`closed` (payments to it are still recorded, held for review), so closing is `clients_changed`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

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
    if not client_ids:
        return
    clients_put(session, changes_repo.bump_versions(session, client_ids))


def clients_put(session: Session, owned: Sequence[tuple[uuid.UUID, uuid.UUID | None]]) -> None:
    """A `put` for each (client id, collector id) whose version the caller already bumped (or
    that is new); unassigned clients have no scope. Two statements."""
    scoped = [(cid, owner) for cid, owner in owned if owner is not None]
    if not scoped:
        return
    first = events_repo.allocate_server_seqs(session, len(scoped))
    changes_repo.upsert(
        session,
        [ChangeRow(owner, CLIENT, cid, first + i, "put") for i, (cid, owner) in enumerate(scoped)],
    )


def clients_removed(
    session: Session, items: Sequence[tuple[uuid.UUID, uuid.UUID]], reason: str = REASSIGNED
) -> None:
    """A `remove` of each (client id, former collector id) from that collector's scope."""
    if not items:
        return
    first = events_repo.allocate_server_seqs(session, len(items))
    changes_repo.upsert(
        session,
        [
            ChangeRow(old, CLIENT, cid, first + i, "remove", reason)
            for i, (cid, old) in enumerate(items)
        ],
    )


def event_statuses(
    session: Session, user_id: uuid.UUID, items: Sequence[tuple[uuid.UUID, str, str]]
) -> None:
    """(event_id, status, note): a `put` of entity event_status in that collector's scope."""
    if not items:
        return
    first = events_repo.allocate_server_seqs(session, len(items))
    changes_repo.upsert(
        session,
        [
            ChangeRow(
                user_id,
                EVENT_STATUS,
                event_id,
                first + i,
                "put",
                data=EventStatusData(status=status, note=note).model_dump(exclude_defaults=True),
            )
            for i, (event_id, status, note) in enumerate(items)
        ],
    )


def client_reassigned(
    session: Session,
    client_id: uuid.UUID,
    old_collector: uuid.UUID | None,
    new_collector: uuid.UUID | None,
) -> None:
    """After `client.collector_id` moved (same transaction, already flushed): a `remove`
    (reason `reassigned`) for the old scope, then a full `put` (version bumped) for the new."""
    if old_collector == new_collector:
        clients_changed(session, [client_id])
        return
    if old_collector is not None:
        clients_removed(session, [(client_id, old_collector)])
    clients_changed(session, [client_id])


def prune_removes(session: Session, before_seq: int) -> int:
    """Forget `remove` rows older than `before_seq` and refuse cursors older than that from now on
    (they could have missed a remove): such phones resync. Answers how many rows went."""
    changes_repo.raise_floor(session, before_seq)
    return changes_repo.delete_removes_before(session, before_seq)
