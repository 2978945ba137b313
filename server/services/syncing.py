"""The push use case (sync-protocol.md, "Push"): record every event of a chunk once, apply its
effect, and answer one result per event. `push` never commits: `push_and_commit` (the route) commits
the whole chunk in one transaction, so a chunk is all or nothing and a retry after a lost response
answers `duplicate`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pydantic import AwareDatetime, TypeAdapter, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from server.repositories import events as events_repo
from server.repositories.changes import ChangeRow
from server.repositories.events import KnownEvent
from server.services import changes, events
from server.services.access import Actor
from server.services.devices import current_server_epoch
from shared.errors import Forbidden, RateLimited, Unauthenticated
from sync.hashing import inbound_content_hash
from sync.protocol import InboundEvent as Received
from sync.protocol import InboundPush, PushResponse, PushResult

CONFLICT_REASON = "same_event_id_different_content"
RACE_RETRY_AFTER_S = 1
log = logging.getLogger(__name__)
_AWARE = TypeAdapter(AwareDatetime)


@dataclass
class _New:
    """An event first seen in this chunk: its inbound row, numbered at the end."""

    row: dict[str, Any]
    status: str
    reason: str | None


def push_and_commit(
    session: Session,
    actor: Actor,
    inbound: InboundPush,
    *,
    now: datetime,
    tz: tzinfo,
    revoked_ok: bool = False,
) -> PushResponse:
    """`push` in its own transaction, committed.

    Two pushes of the same event_id from two connections (a retry racing its original through
    another device, or a supervisor importing an exported outbox) both see the id as new; the
    second to insert it waits for the first and then fails on the unique key. The loser's chunk
    is rolled back and run once more in a new transaction, which sees the winner's rows and
    answers `duplicate` (or `conflict`). A deadlock or serialization failure reported by
    PostgreSQL (the lock order of `push` should leave none, but the server is not the only
    writer) is handled the same way. Losing twice answers 429 with Retry-After: the phone
    retries the same events (sync-protocol.md), never a 500."""
    for attempt in (1, 2):
        try:
            response = push(session, actor, inbound, now=now, tz=tz, revoked_ok=revoked_ok)
            session.commit()
            return response
        except IntegrityError:
            session.rollback()
            log.warning("push lost a race on a unique key (attempt %d)", attempt, exc_info=True)
        except DBAPIError as exc:
            if _sqlstate(exc) not in _RETRYABLE:
                raise
            session.rollback()
            log.warning("push lost a lock race (attempt %d)", attempt, exc_info=True)
    raise RateLimited(
        "another push of the same events is being recorded; retry",
        retry_after_s=RACE_RETRY_AFTER_S,
        code="push_in_progress",
    )


# PostgreSQL's deadlock_detected and serialization_failure: the transaction was chosen to lose,
# running it again is the documented remedy.
_RETRYABLE = frozenset({"40P01", "40001"})


def _sqlstate(exc: DBAPIError) -> str | None:
    code = getattr(exc.orig, "sqlstate", None)
    return code if isinstance(code, str) else None


def push(
    session: Session,
    actor: Actor,
    inbound: InboundPush,
    *,
    now: datetime,
    tz: tzinfo,
    revoked_ok: bool = False,
) -> PushResponse:
    """`revoked_ok`: the events come from the office (a revoked phone's exported outbox,
    `server/services/event_files.py`), not from the device's own token."""
    device_id = _check_device(session, actor, inbound, revoked_ok=revoked_ok)
    received = [(r, inbound_content_hash(r)) for r in inbound.events]
    known = events_repo.known_events(session, {r.event_id for r, _ in received})
    # Classify in chunk order: the first content seen for an id (before or in this chunk) is the
    # recorded one; the same content again is a duplicate, other content a conflict.
    fresh: dict[uuid.UUID, tuple[Received, str]] = {}
    verdicts: list[tuple[Received, str, str]] = []  # (event, hash, new|duplicate|conflict)
    for r, content_hash in received:
        earlier = known.get(r.event_id)
        first = earlier.content_hash if earlier else fresh.get(r.event_id, (None, None))[1]
        if first is None:
            fresh[r.event_id] = (r, content_hash)
            verdicts.append((r, content_hash, "new"))
        else:
            verdicts.append((r, content_hash, "duplicate" if first == content_hash else "conflict"))
    parsed = [r.event for r, _ in fresh.values() if r.event is not None]
    chunk = events.Chunk.load(session, events.Context(actor.user_id, device_id, now, tz), parsed)
    conflicts_kept = events_repo.recorded_conflicts(
        session, {(r.event_id, h) for r, h, v in verdicts if v == "conflict"}
    )
    new: dict[uuid.UUID, _New] = {}
    conflict_rows: list[dict[str, Any]] = []
    for r, content_hash, verdict in verdicts:
        if verdict == "new":
            new[r.event_id] = _record(chunk, r, content_hash)
        elif verdict == "conflict" and (r.event_id, content_hash) not in conflicts_kept:
            conflicts_kept.add((r.event_id, content_hash))
            conflict_rows.append(_conflict(chunk, r, content_hash))
    chunk.write(session)
    events_repo.insert_rows(session, "conflicts", conflict_rows)
    held = [(eid, "held", n.reason) for eid, n in new.items() if n.reason is not None]
    logged = changes.client_puts(changes.bump_clients(session, chunk.changed_clients))
    logged += changes.event_status_puts(actor.user_id, held)
    _number(session, [n.row for n in new.values()], logged)
    results = tuple(_result(r.event_id, verdict, known, new) for r, _, verdict in verdicts)
    return PushResponse(server_epoch=current_server_epoch(session, now=now), results=results)


def _check_device(
    session: Session, actor: Actor, inbound: InboundPush, *, revoked_ok: bool = False
) -> uuid.UUID:
    if actor.device_id is None:
        raise Unauthenticated("sync needs a device token", code="device_token_required")
    if inbound.device_id != actor.device_id:
        raise Forbidden(
            "the device_id in the body is not the device of this token", code="device_mismatch"
        )
    device = events_repo.lock_device(session, actor.device_id)
    revoked = device is not None and device.revoked_at is not None and not revoked_ok
    if device is None or revoked or device.user_id != actor.user_id:
        raise Unauthenticated("this device is not registered", code="device_revoked")
    return device.id


def _record(chunk: events.Chunk, r: Received, content_hash: str) -> _New:
    """Apply one new event (its effects join the chunk's bulk writes) and build its inbound
    row; the row is inserted with its server_seq at the end of the chunk."""
    reason = chunk.apply(r.event) if r.event is not None else (r.reason or "invalid_payload")
    envelope = _envelope(r)
    if reason is not None:
        chunk.open_review(
            kind="held_event", event_id=r.event_id, client_id=envelope["client_id"], reason=reason
        )
    status = "held" if reason else "applied"
    ctx = chunk.ctx
    row = {
        "event_id": r.event_id,
        "device_id": ctx.device_id,
        "user_id": ctx.user_id,
        "received_at": ctx.received_at,
        "content_hash": content_hash,
        "raw": r.raw,
        "status": status,
        "reason": reason,
        **envelope,
    }
    return _New(row, status, reason)


def _envelope(r: Received) -> dict[str, Any]:
    """The envelope columns: from the parsed event, or best effort from a malformed one."""
    if r.event is not None:
        e = r.event
        return {
            "type": e.type,
            "type_version": e.type_version,
            "device_seq": e.device_seq,
            "client_id": e.client_id,
            "device_time": e.device_time,
        }
    raw = r.raw
    kind = raw.get("type")
    version, seq = raw.get("type_version"), raw.get("device_seq")
    return {
        # (PostgreSQL's COPY refuses NUL in text: a type holding one was a 500 for the chunk)
        "type": kind[:64].replace("\x00", "\ufffd") if isinstance(kind, str) else "",
        "type_version": version if _is_int(version, 2**31) else None,
        "device_seq": seq if _is_int(seq, 2**63) else None,
        "client_id": _maybe_uuid(raw.get("client_id")),
        "device_time": _maybe_time(raw.get("device_time")),
    }


def _is_int(value: object, bound: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -bound < value < bound


def _maybe_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _maybe_time(value: object) -> datetime | None:
    try:
        return _AWARE.validate_python(value) if isinstance(value, str) else None
    except ValidationError:
        return None


def _conflict(chunk: events.Chunk, r: Received, content_hash: str) -> dict[str, Any]:
    """The other content, kept once per distinct hash for forensics and never applied."""
    ctx = chunk.ctx
    chunk.open_review(
        kind="conflict",
        event_id=r.event_id,
        client_id=r.event.client_id if r.event is not None else None,
        reason=CONFLICT_REASON,
    )
    return {
        "event_id": r.event_id,
        "device_id": ctx.device_id,
        "user_id": ctx.user_id,
        "received_at": ctx.received_at,
        "content_hash": content_hash,
        "raw": r.raw,
    }


def _number(session: Session, rows: list[dict[str, Any]], logged: list[ChangeRow]) -> None:
    """Give the new inbound rows their server_seq, then the change rows theirs (above the events
    they reflect: a pull that sees a client's new balance has already seen the events'
    acknowledgements), from one block of the counter: the chunk's last lock, held to commit, so
    seqs become visible in commit order and no pusher waits for a row while holding it."""
    if not rows and not logged:
        return
    first = events_repo.allocate_server_seqs(session, len(rows) + len(logged))
    for offset, row in enumerate(rows):
        row["server_seq"] = first + offset
    events_repo.insert_rows(session, "inbound", rows)
    changes.publish(session, logged, first + len(rows))


def _result(
    event_id: uuid.UUID,
    verdict: str,
    known: dict[uuid.UUID, KnownEvent],
    new: dict[uuid.UUID, _New],
) -> PushResult:
    if verdict == "conflict":
        return PushResult(event_id=event_id, status="conflict", reason=CONFLICT_REASON)
    fresh = new.get(event_id)
    if fresh is not None:
        seq, status, reason = fresh.row["server_seq"], fresh.status, fresh.reason
    else:
        k = known[event_id]
        seq, status, reason = k.server_seq, k.status, k.reason
    return PushResult(
        event_id=event_id,
        status="duplicate" if verdict == "duplicate" else "held" if status == "held" else "applied",
        server_seq=seq,
        reason=reason,
    )
