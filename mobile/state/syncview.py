"""The Sincronización screen as values: counts by outbox state and the rows worth showing
(everything not yet acknowledged, newest first, with the client's name and the server's note)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from mobile.services.portfolio import LocalEvent

SHOWN_STATES = ("pending", "held", "conflict")


@dataclass(frozen=True)
class SyncRow:
    event_id: str
    type: str
    client_name: str
    amount: Decimal | None
    at: datetime
    state: str
    reason: str


@dataclass(frozen=True)
class SyncOverview:
    pending: int
    held: int
    conflict: int
    rows: tuple[SyncRow, ...]


def sync_overview(
    events: Iterable[LocalEvent],
    names: Mapping[str, str],
    by_type: Mapping[str, str] | None = None,
) -> SyncOverview:
    """`names`: client names by id; `by_type`: the name of an event about no single client
    (a day route, a cash handover), by event type."""
    by_type = by_type or {}
    listed = list(events)
    counts = Counter(e.state for e in listed)
    rows = [
        SyncRow(
            event_id=e.event_id,
            type=e.type,
            client_name=by_type.get(e.type) or names.get(e.client_id, e.client_id[:8]),
            amount=e.amount,
            at=e.device_time,
            state=e.state,
            reason=e.status_reason or "",
        )
        for e in reversed(listed)
        if e.state in SHOWN_STATES
    ]
    return SyncOverview(counts["pending"], counts["held"], counts["conflict"], tuple(rows))
