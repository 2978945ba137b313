"""Outbox housekeeping: which rows to push, and the 30-day retention of acknowledged rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import OutboxRow
from shared.calendar import require_aware

ACK_RETENTION = timedelta(days=30)


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
