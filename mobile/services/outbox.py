"""Outbox housekeeping: which rows to push, and the 30-day retention of acknowledged rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import OutboxRow
from shared.calendar import require_aware
from sync.protocol import PushResult

ACK_RETENTION = timedelta(days=30)
_STATE_OF = {"applied": "acked", "duplicate": "acked", "held": "held", "conflict": "conflict"}


def pending_rows(session: Session, limit: int | None = None) -> Sequence[OutboxRow]:
    """Pending rows in `device_seq` order, the order they are pushed in."""
    query = select(OutboxRow).where(OutboxRow.state == "pending").order_by(OutboxRow.device_seq)
    return session.scalars(query.limit(limit)).all()


def purge_acked(
    db: sessionmaker[Session], *, now: datetime, keep: timedelta = ACK_RETENTION
) -> int:
    """Delete rows acknowledged before `now - keep`. Kept until then so they can be re-pushed
    after a server epoch change; pending, held and conflict rows are never purged."""
    cutoff = require_aware(now, "now") - keep
    with db.begin() as session:
        result = session.execute(
            delete(OutboxRow).where(OutboxRow.state == "acked", OutboxRow.acked_at < cutoff)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


def apply_push_results(
    db: sessionmaker[Session], results: Iterable[PushResult], *, now: datetime
) -> None:
    """Record the server's answer to one push in one transaction: applied/duplicate become
    `acked`, held stays `held` (both durably recorded, never resent), conflict stops resending."""
    require_aware(now, "now")
    with db.begin() as session:
        for result in results:
            row = session.get(OutboxRow, str(result.event_id))
            if row is None:
                continue  # purged meanwhile: the server already had it
            row.state = _STATE_OF[result.status]
            row.server_seq = result.server_seq
            row.status_reason = result.reason
            row.acked_at = now
