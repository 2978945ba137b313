"""A phone's exported outbox (mobile/services/exporting.py: a JSON array of push requests),
posted by the office when the phone cannot push it itself: lost, broken, or revoked after a
theft with payments still unsent. Each element goes through the same push rule as from the phone
(dedup by event_id, so posting a file twice or after the phone synced changes nothing; money held
for review, never refused for a business reason), recorded as that device's events, even when the
device is revoked. The office vouches for the file: who posted it is in the audit log."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, tzinfo

from pydantic import BaseModel
from sqlalchemy.orm import Session

from server.db.models import AuditLog
from server.repositories import users as users_repo
from server.services import syncing
from server.services.access import Actor, require_office
from server.services.devices import get_device
from shared.errors import InvalidInput
from sync.protocol import read_push

MAX_CHUNKS = 500  # 100,000 events: months of a collector's work


class EventFileResult(BaseModel):
    device_id: uuid.UUID
    collector: str
    chunks: int
    events: int
    applied: int
    duplicate: int
    held: int
    conflict: int


def import_event_file(
    session: Session,
    office: Actor,
    device_id: uuid.UUID,
    bodies: object,
    *,
    now: datetime,
    tz: tzinfo,
) -> EventFileResult:
    """Apply every chunk of an exported outbox for `device_id`, one transaction per chunk (as the
    phone would have). The whole file is read and checked before the first chunk is applied."""
    require_office(office)
    device = get_device(session, device_id)
    owner = users_repo.get_user(session, device.user_id)
    if not isinstance(bodies, list) or not bodies or len(bodies) > MAX_CHUNKS:
        raise InvalidInput(
            f"an exported file is a JSON array of 1 to {MAX_CHUNKS} push requests",
            code="invalid_event_file",
        )
    pushes = [read_push(body) for body in bodies]
    for index, push in enumerate(pushes):
        if push.device_id != device.id:
            raise InvalidInput(
                "this file was exported by another device",
                code="device_mismatch",
                details={"index": index, "device_id": str(push.device_id)},
            )
    username = owner.username if owner else ""
    actor = Actor(device.user_id, username, "collector", device.id)
    session.rollback()  # end the read transaction: each chunk runs in its own
    statuses: Counter[str] = Counter()
    for push in pushes:
        response = syncing.push_and_commit(session, actor, push, now=now, tz=tz, revoked_ok=True)
        statuses.update(result.status for result in response.results)
    result = EventFileResult(
        device_id=device.id,
        collector=username,
        chunks=len(pushes),
        events=sum(statuses.values()),
        applied=statuses["applied"],
        duplicate=statuses["duplicate"],
        held=statuses["held"],
        conflict=statuses["conflict"],
    )
    session.add(
        AuditLog(
            at=now,
            actor_id=office.user_id,
            action="device.events_imported",
            entity="device",
            entity_id=str(device.id),
            details=result.model_dump(mode="json", exclude={"device_id"}),
        )
    )
    session.commit()
    return result
