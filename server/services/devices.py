"""Devices: one per app installation. Registration issues a device token (shown once, stored
hashed) and a short code used in receipt numbers (`K7Q-000412`); an admin can revoke a device.
Never commits (the caller does); every change leaves an audit_log row.

Only collectors register devices: a device token never expires and lives on a phone that can be
lost, so it must not carry office powers. A supervisor who wants to try the app uses a collector
account.

`server_epoch` identifies this database for the sync protocol (a phone that sees it change
re-pushes what it retained). No table holds it: it is the entity_id of the newest
`server_epoch.set` row in audit_log, created on first use. A fresh database therefore gets a new
epoch by itself; a database restored from a backup must be given a new one with
`rotate_server_epoch` as part of the restore procedure (the backup carries the old value).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Device
from server.repositories import devices as devices_repo
from server.services.access import Actor, require_role
from server.services.auth import DEVICE_ROLES
from server.services.security import hash_device_token, new_device_token
from shared.errors import Conflict, NotFound

# Crockford-like: no 0/O or 1/I, so a code read aloud or off a paper receipt is unambiguous.
DEVICE_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
DEVICE_CODE_LENGTH = 3
_CODE_ATTEMPTS = 50  # 32^3 = 32,768 codes; a miss this many times means the space is nearly full


def random_device_code() -> str:
    return "".join(secrets.choice(DEVICE_CODE_ALPHABET) for _ in range(DEVICE_CODE_LENGTH))


@dataclass(frozen=True)
class Registration:
    device: Device
    token: str  # shown once; only its hash is stored
    server_epoch: str
    created: bool  # False: a retry of an earlier registration, answered with a rotated token


def register_device(
    session: Session,
    actor: Actor,
    *,
    name: str,
    install_nonce: str,
    now: datetime,
    new_code: Callable[[], str] = random_device_code,
) -> Registration:
    """Register this installation, or, when (user, install_nonce) is already registered (a phone
    retrying after a lost response), answer the same device with a new token and retire the old
    one: the phone never ends up with two devices, and only the latest token works."""
    require_role(actor, *sorted(DEVICE_ROLES))
    token = new_device_token()
    device = devices_repo.get_device_by_nonce(session, actor.user_id, install_nonce)
    created = device is None
    if device is None:
        device = _insert_device(session, actor, name, install_nonce, token, now, new_code)
        if device is None:  # a concurrent request with the same nonce got there first
            device = devices_repo.get_device_by_nonce(session, actor.user_id, install_nonce)
            assert device is not None
            created = False
    if not created:
        if device.revoked_at is not None:
            raise Conflict(
                "esta instalación fue revocada; reinstale la aplicación para registrarla de nuevo",
                code="device_revoked",
                details={"device_id": str(device.id)},
            )
        device.name = name
        device.token_hash = hash_device_token(token)
    _audit(
        session,
        actor.user_id,
        "device.registered" if created else "device.token_rotated",
        device,
        {"code": device.code, "name": name},
        now,
    )
    return Registration(device, token, current_server_epoch(session, now=now), created)


def _insert_device(
    session: Session,
    actor: Actor,
    name: str,
    install_nonce: str,
    token: str,
    now: datetime,
    new_code: Callable[[], str],
) -> Device | None:
    for _ in range(_CODE_ATTEMPTS):
        code = new_code()
        if devices_repo.code_taken(session, code):
            continue
        device = Device(
            id=uuid.uuid4(),
            user_id=actor.user_id,
            name=name,
            install_nonce=install_nonce,
            code=code,
            token_hash=hash_device_token(token),
            created_at=now,
        )
        try:
            with session.begin_nested():  # a lost race must not spoil the caller's transaction
                session.add(device)
        except IntegrityError:
            if devices_repo.get_device_by_nonce(session, actor.user_id, install_nonce):
                return None
            continue  # someone took the code between the check and the insert
        return device
    raise Conflict("no free device code was found; contact support", code="device_codes_exhausted")


def list_devices(session: Session, actor: Actor) -> Sequence[tuple[Device, str]]:
    """Every device with its owner's username for the office; a collector's own otherwise."""
    return devices_repo.list_devices(session, user_id=None if actor.is_office else actor.user_id)


def get_device(session: Session, device_id: uuid.UUID) -> Device:
    device = devices_repo.get_device(session, device_id)
    if device is None:
        raise NotFound("no such device", code="device_not_found")
    return device


def revoke_device(session: Session, actor: Actor, device_id: uuid.UUID, *, now: datetime) -> Device:
    """Stop a device's token from working (admin). Revoking twice changes nothing."""
    require_role(actor, "admin")
    device = get_device(session, device_id)
    if device.revoked_at is None:
        device.revoked_at = now
        _audit(session, actor.user_id, "device.revoked", device, {"code": device.code}, now)
    return device


def current_server_epoch(session: Session, *, now: datetime) -> str:
    """This database's sync epoch, created on first use (the caller commits)."""
    return devices_repo.latest_epoch(session) or rotate_server_epoch(
        session, now=now, reason="first use"
    )


def rotate_server_epoch(
    session: Session, *, now: datetime, reason: str, actor_id: uuid.UUID | None = None
) -> str:
    """Give this database a new epoch (after restoring a backup or rebuilding the ledger)."""
    epoch = str(uuid.uuid4())
    session.add(
        AuditLog(
            at=now,
            actor_id=actor_id,
            action=devices_repo.EPOCH_ACTION,
            entity="server",
            entity_id=epoch,
            details={"reason": reason},
        )
    )
    session.flush()
    return epoch


def _audit(
    session: Session,
    actor_id: uuid.UUID,
    action: str,
    device: Device,
    details: dict[str, str],
    now: datetime,
) -> None:
    session.add(
        AuditLog(
            at=now,
            actor_id=actor_id,
            action=action,
            entity="device",
            entity_id=str(device.id),
            details=details,
        )
    )
