"""Pending events to a file a supervisor imports through the same push rule (phone lost, no
signal for days). The file is a JSON array of push requests, each within the protocol's limit
of events, so every element can be posted to `/v1/sync/push` as is; retrying an element is
harmless (dedup by event_id)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import OutboxRow
from mobile.services.device import sync_state
from mobile.services.outbox import pending_rows
from sync.protocol import MAX_EVENTS_PER_PUSH, PushRequest


def event_body(row: OutboxRow) -> dict[str, Any]:
    """The event as it goes on the wire: the stored payload text is parsed, never rebuilt."""
    return {
        "event_id": row.event_id,
        "device_seq": row.device_seq,
        "type": row.type,
        "type_version": row.type_version,
        "client_id": row.client_id,
        "device_time": row.device_time,
        "payload": json.loads(row.payload),
    }


def push_bodies(
    session: Session, *, app_version: str, chunk: int = MAX_EVENTS_PER_PUSH
) -> list[dict[str, Any]]:
    """Every pending event, in device_seq order, as push request bodies of at most `chunk`."""
    state = sync_state(session)
    events = [event_body(row) for row in pending_rows(session)]
    return [
        {
            "protocol": 1,
            "device_id": state.device_id,
            "app_version": app_version,
            "events": events[start : start + chunk],
        }
        for start in range(0, len(events), chunk)
    ]


def export_pending(db: sessionmaker[Session], path: Path, *, app_version: str) -> int:
    """Write the pending events to `path` (atomically) and return how many were written. The
    rows stay pending: the phone still pushes them itself, the server dedups."""
    with db() as session:
        bodies = push_bodies(session, app_version=app_version)
    for body in bodies:
        PushRequest.model_validate(body)  # the file must be something the server accepts
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(bodies, handle, ensure_ascii=False, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return sum(len(body["events"]) for body in bodies)
