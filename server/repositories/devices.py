"""Every query on devices, and on the audit rows that hold this database's sync epoch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Device, User

EPOCH_ACTION = "server_epoch.set"


def get_device(session: Session, device_id: uuid.UUID) -> Device | None:
    return session.get(Device, device_id)


def get_device_by_nonce(session: Session, user_id: uuid.UUID, install_nonce: str) -> Device | None:
    return session.scalars(
        select(Device).where(Device.user_id == user_id, Device.install_nonce == install_nonce)
    ).one_or_none()


def device_and_user_by_token_hash(session: Session, token_hash: str) -> tuple[Device, User] | None:
    row = session.execute(
        select(Device, User)
        .join(User, Device.user_id == User.id)
        .where(Device.token_hash == token_hash)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def code_taken(session: Session, code: str) -> bool:
    return bool(session.scalar(select(exists().where(Device.code == code))))


def list_devices(
    session: Session, *, user_id: uuid.UUID | None = None
) -> Sequence[tuple[Device, str]]:
    """Devices with their owner's username, by owner then age."""
    query = select(Device, User.username).join(User, Device.user_id == User.id)
    if user_id is not None:
        query = query.where(Device.user_id == user_id)
    rows = session.execute(query.order_by(User.username, Device.created_at, Device.code)).all()
    return [(device, username) for device, username in rows]


def touch_last_seen(session: Session, device_id: uuid.UUID, *, now: datetime) -> None:
    session.execute(update(Device).where(Device.id == device_id).values(last_seen_at=now))


def latest_epoch(session: Session) -> str | None:
    return session.scalars(
        select(AuditLog.entity_id)
        .where(AuditLog.action == EPOCH_ACTION)
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).first()
