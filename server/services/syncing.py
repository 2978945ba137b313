"""The push use case (sync-protocol.md, "Push"): record every event of a chunk once, apply its
effect, and answer one result per event. Never commits: the route commits the whole chunk in one
transaction, so a chunk is all or nothing and a retry after a lost response answers `duplicate`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pydantic import AwareDatetime, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from server.db.models import EventConflict, InboundEvent
from server.repositories import events as events_repo
from server.services import events
from server.services.access import Actor
from server.services.devices import current_server_epoch
from shared.errors import Forbidden, Unauthenticated
from sync.hashing import inbound_content_hash
from sync.protocol import InboundEvent as Received
from sync.protocol import InboundPush, PushResponse, PushResult

CONFLICT_REASON = "same_event_id_different_content"
_AWARE = TypeAdapter(AwareDatetime)


@dataclass
class _Seen:
    """An event already recorded (in an earlier push or earlier in this chunk)."""

    content_hash: str
    row: InboundEvent


def push(
    session: Session, actor: Actor, inbound: InboundPush, *, now: datetime, tz: tzinfo
) -> PushResponse:
    device_id = _check_device(session, actor, inbound)
    received = [(r, inbound_content_hash(r)) for r in inbound.events]
    known = events_repo.known_events(session, {r.event_id for r, _ in received})
    seen = {eid: _Seen(row.content_hash, row) for eid, row in known.items()}
    client_ids = {r.event.client_id for r, _ in received if r.event is not None}
    ctx = events.Context(
        actor.user_id, device_id, now, tz, events_repo.clients_by_id(session, client_ids)
    )
    new_rows: list[InboundEvent] = []
    pending: list[tuple[uuid.UUID, InboundEvent | None, str | None]] = []
    for r, content_hash in received:
        earlier = seen.get(r.event_id)
        if earlier is None:
            row = _record(session, ctx, r, content_hash)
            seen[r.event_id] = _Seen(content_hash, row)
            new_rows.append(row)
            pending.append((r.event_id, row, None))
        elif earlier.content_hash == content_hash:
            pending.append((r.event_id, earlier.row, "duplicate"))
        else:
            _conflict(session, ctx, r, content_hash)
            pending.append((r.event_id, None, "conflict"))
    _number(session, new_rows)
    results = tuple(_result(eid, row, status) for eid, row, status in pending)
    return PushResponse(server_epoch=current_server_epoch(session, now=now), results=results)


def _check_device(session: Session, actor: Actor, inbound: InboundPush) -> uuid.UUID:
    if actor.device_id is None:
        raise Unauthenticated("sync needs a device token", code="device_token_required")
    if inbound.device_id != actor.device_id:
        raise Forbidden(
            "the device_id in the body is not the device of this token", code="device_mismatch"
        )
    device = events_repo.lock_device(session, actor.device_id)
    if device is None or device.revoked_at is not None or device.user_id != actor.user_id:
        raise Unauthenticated("this device is not registered", code="device_revoked")
    return device.id


def _record(session: Session, ctx: events.Context, r: Received, content_hash: str) -> InboundEvent:
    """Apply one new event (in a savepoint-free way: effects either all land or raise) and build
    its inbound row; the row is inserted with its server_seq at the end of the chunk."""
    if r.event is not None:
        reason = events.apply_event(session, ctx, r.event)
    else:
        reason = r.reason or "invalid_payload"
    envelope = _envelope(r)
    if reason is not None:
        events.open_review(
            session,
            ctx,
            kind="held_event",
            event_id=r.event_id,
            client_id=envelope["client_id"],
            reason=reason,
        )
    return InboundEvent(
        event_id=r.event_id,
        device_id=ctx.device_id,
        user_id=ctx.user_id,
        received_at=ctx.received_at,
        content_hash=content_hash,
        raw=r.raw,
        status="held" if reason else "applied",
        reason=reason,
        **envelope,
    )


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
        "type": kind[:64] if isinstance(kind, str) else "",
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


def _conflict(session: Session, ctx: events.Context, r: Received, content_hash: str) -> None:
    """Keep the other content once per distinct hash, for forensics; never apply it."""
    if events_repo.conflict_recorded(session, r.event_id, content_hash):
        return
    session.add(
        EventConflict(
            event_id=r.event_id,
            device_id=ctx.device_id,
            user_id=ctx.user_id,
            received_at=ctx.received_at,
            content_hash=content_hash,
            raw=r.raw,
        )
    )
    client_id = r.event.client_id if r.event is not None else None
    events.open_review(
        session,
        ctx,
        kind="conflict",
        event_id=r.event_id,
        client_id=client_id,
        reason=CONFLICT_REASON,
    )


def _number(session: Session, rows: Iterable[InboundEvent]) -> None:
    """Give the new rows their server_seq, last thing before commit (see allocate_server_seqs)."""
    rows = list(rows)
    if not rows:
        return
    first = events_repo.allocate_server_seqs(session, len(rows))
    for offset, row in enumerate(rows):
        row.server_seq = first + offset
    session.add_all(rows)
    session.flush()


def _result(event_id: uuid.UUID, row: InboundEvent | None, status: str | None) -> PushResult:
    if row is None:
        return PushResult(event_id=event_id, status="conflict", reason=CONFLICT_REASON)
    if status == "duplicate":
        return PushResult(
            event_id=event_id, status="duplicate", server_seq=row.server_seq, reason=row.reason
        )
    return PushResult(
        event_id=event_id,
        status="held" if row.status == "held" else "applied",
        server_seq=row.server_seq,
        reason=row.reason,
    )
