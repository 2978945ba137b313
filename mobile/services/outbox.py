"""Outbox housekeeping: which rows to push, and the 30-day retention of acknowledged rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import OutboxRow
from mobile.services.cash import cash_in_hand
from shared.calendar import require_aware
from sync.protocol import PushResult

ACK_RETENTION = timedelta(days=30)
_STATE_OF = {"applied": "acked", "duplicate": "acked", "held": "held", "conflict": "conflict"}


def state_for(result: PushResult) -> str:
    """The outbox state a push result puts its row in. A `duplicate` carries the reason the
    server first recorded the event with: set only when it was held, so the retry of a held
    event whose first answer was lost stays `held` on the phone, not `acked`."""
    if result.status == "duplicate" and result.reason is not None:
        return "held"
    return _STATE_OF[result.status]


def pending_rows(session: Session, limit: int | None = None) -> Sequence[OutboxRow]:
    """Pending rows in `device_seq` order, the order they are pushed in."""
    query = select(OutboxRow).where(OutboxRow.state == "pending").order_by(OutboxRow.device_seq)
    return session.scalars(query.limit(limit)).all()


def purge_acked(
    db: sessionmaker[Session], *, now: datetime, keep: timedelta = ACK_RETENTION
) -> int:
    """Delete rows acknowledged before `now - keep`. Kept until then so they can be re-pushed
    after a server epoch change; pending, held and conflict rows are never purged. `now` and
    the `acked_at` stamps are the server's clock (the sync loop's `server_time`), never the
    phone's, which may be off by a year. A cash payment not handed over yet is kept however
    old: it is what the collector's cash in hand is computed from (mobile.services.cash)."""
    cutoff = require_aware(now, "now") - keep
    with db.begin() as session:
        in_hand = [p.event_id for p in cash_in_hand(session)]
        result = session.execute(
            delete(OutboxRow).where(
                OutboxRow.state == "acked",
                OutboxRow.acked_at < cutoff,
                OutboxRow.event_id.not_in(in_hand),
            )
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


def apply_push_results(
    db: sessionmaker[Session], results: Iterable[PushResult], *, now: datetime
) -> None:
    """Record the server's answer to one push in one transaction: applied/duplicate become
    `acked`, held (or a duplicate of a held event) `held` (both durably recorded, never
    resent), conflict stops resending."""
    require_aware(now, "now")
    with db.begin() as session:
        for result in results:
            row = session.get(OutboxRow, str(result.event_id))
            if row is None:
                continue  # purged meanwhile: the server already had it
            row.state = state_for(result)
            row.server_seq = result.server_seq
            row.status_reason = result.reason
            row.acked_at = now
            row.last_error = None


def record_attempt(db: sessionmaker[Session], event_ids: Sequence[str]) -> None:
    """Count a push of these rows before it is sent, so even a push the process dies in counts."""
    with db.begin() as session:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.event_id.in_(event_ids))
            .values(attempts=OutboxRow.attempts + 1)
        )


def record_error(db: sessionmaker[Session], event_ids: Sequence[str], error: str) -> None:
    """Why the last push of these rows failed (shown on the sync screen); they stay pending."""
    with db.begin() as session:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.event_id.in_(event_ids), OutboxRow.state == "pending")
            .values(last_error=error[:1000])
        )


def requeue_recorded(session: Session) -> int:
    """After a server epoch change (a restored backup), every row the old server recorded
    (acked within the retention, or held) is pending again: the restored database may not have
    it, and a re-push of one it has answers `duplicate`. Conflict rows stay as they are."""
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.state.in_(("acked", "held")))
        .values(state="pending", server_seq=None, acked_at=None, status_reason=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
