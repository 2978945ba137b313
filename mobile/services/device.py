"""This installation's identity and the guards around wiping it."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import ClientMirror, EventStatus, OutboxRow, SyncState
from shared.errors import Conflict


def register_device(
    db: sessionmaker[Session],
    *,
    device_id: str,
    device_code: str,
    device_token: str,
    server_url: str,
    server_epoch: str,
    username: str = "",
    full_name: str = "",
) -> None:
    """Store what `POST /v1/devices` answered. A second registration keeps the seq counter: a
    receipt number is never handed out twice on this phone."""
    with db.begin() as session:
        state = session.get(SyncState, 1)
        if state is None:
            state = SyncState(id=1, next_device_seq=1, cursor="")
            session.add(state)
        state.device_id = device_id
        state.device_code = device_code
        state.device_token = device_token
        state.server_url = server_url
        state.server_epoch = server_epoch
        state.username = username
        state.full_name = full_name


def sync_state(session: Session) -> SyncState:
    state = session.get(SyncState, 1)
    if state is None:
        raise Conflict("este teléfono no está registrado", code="device_not_registered")
    return state


def pending_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "pending")
        )
        or 0
    )


def ensure_nothing_pending(session: Session) -> None:
    """Logging out or resetting would lose events the server has never seen."""
    pending = pending_count(session)
    if pending:
        raise Conflict(
            f"hay {pending} registros sin sincronizar; sincronice o exporte antes de salir",
            code="outbox_not_empty",
            details={"pending": pending},
        )


def reset_device(db: sessionmaker[Session]) -> None:
    """Log out / reset: forget the identity, the mirror and the outbox, only when nothing is
    pending (held and conflict rows are already on the server, for review there)."""
    with db.begin() as session:
        ensure_nothing_pending(session)
        for model in (OutboxRow, EventStatus, ClientMirror, SyncState):
            session.execute(delete(model))
