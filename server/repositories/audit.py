"""Writing the audit log: who changed what outside the ledger. The table is append-only (the
database refuses UPDATE and DELETE, migration 0007), so this is its only write."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import AuditLog


def record(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    entity: str,
    entity_id: object,
    details: Mapping[str, Any],
    at: datetime | None = None,
) -> None:
    """Add one row to the caller's transaction (flushed with it)."""
    session.add(
        AuditLog(
            at=at or utcnow(),
            actor_id=actor_id,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            details=dict(details),
        )
    )
