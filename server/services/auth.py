"""Logging in (password → access token, with throttling) and turning a bearer token into an Actor.

Two kinds of bearer token, told apart by their prefix: access tokens (JWT, from a password login,
short-lived) and device tokens (`rdt_…`, from device registration, stored hashed, valid until the
device is revoked). A device token acts as its user, with `Actor.device_id` set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from server.db.models import User
from server.repositories import devices as devices_repo
from server.repositories import users as users_repo
from server.services.access import Actor
from server.services.security import (
    DEVICE_TOKEN_PREFIX,
    hash_device_token,
    hash_password,
    issue_access_token,
    needs_rehash,
    read_access_token,
    verify_password,
)
from server.services.users import MAX_PASSWORD_LENGTH, normalise_username
from server.settings import Settings
from shared.errors import RateLimited, Unauthenticated

# Stamping last_seen_at on every request would turn every read into a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# Only the role that works in the field holds a device token (see register_device).
DEVICE_ROLES = frozenset({"collector"})
_COLUMN_LENGTH = 64  # login_failure.username and .remote_addr


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int  # seconds
    user: User


@dataclass(frozen=True)
class ResolvedBearer:
    actor: Actor
    touched: bool  # the device's last_seen_at was stamped; the caller commits it


def login(
    session: Session,
    *,
    username: str,
    password: str,
    remote_addr: str,
    settings: Settings,
    now: datetime,
) -> IssuedToken:
    """Check a password and issue an access token.

    After `login_max_failures` failures within `login_window_seconds` for one username, or from
    one address, every attempt (even with the right password) answers `too_many_login_attempts`
    until the window has passed. A failed attempt adds a login_failure row, which the caller must
    commit even though it answers an error. A success clears that username's failures.
    """
    name = normalise_username(username)[:_COLUMN_LENGTH]
    addr = remote_addr[:_COLUMN_LENGTH]
    _check_throttle(session, username=name, remote_addr=addr, settings=settings, now=now)
    user = users_repo.get_user_by_username(session, name)
    # An unknown user is checked against a dummy hash, so it costs as long as a wrong password.
    ok = len(password) <= MAX_PASSWORD_LENGTH and verify_password(
        user.password_hash if user else None, password
    )
    if user is None or not ok:
        users_repo.add_login_failure(session, username=name, remote_addr=addr, at=now)
        users_repo.prune_login_failures(
            session, before=now - timedelta(seconds=settings.login_window_seconds)
        )
        raise Unauthenticated("usuario o contraseña incorrectos", code="invalid_credentials")
    if not user.active:
        # Only someone who knows the password learns that the account is disabled.
        raise Unauthenticated("el usuario está desactivado", code="user_disabled")
    users_repo.clear_login_failures(session, name)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    ttl = timedelta(minutes=settings.access_token_minutes)
    token = issue_access_token(user.id, user.role, settings.signing_key, ttl, now=now)
    return IssuedToken(access_token=token, expires_in=int(ttl.total_seconds()), user=user)


def _check_throttle(
    session: Session, *, username: str, remote_addr: str, settings: Settings, now: datetime
) -> None:
    limit = settings.login_max_failures
    window = timedelta(seconds=settings.login_window_seconds)
    since = now - window
    waits = [
        _wait(
            users_repo.recent_failures(session, since=since, limit=limit, username=username),
            limit,
            window,
            now,
        )
    ]
    if remote_addr:
        recent = users_repo.recent_failures(
            session, since=since, limit=limit, remote_addr=remote_addr
        )
        waits.append(_wait(recent, limit, window, now))
    retry_after = max(waits)
    if retry_after > 0:
        raise RateLimited(
            "demasiados intentos fallidos; espere antes de volver a intentar",
            code="too_many_login_attempts",
            retry_after_s=retry_after,
            details={"retry_after_s": retry_after},
        )


def _wait(newest_first: list[datetime], limit: int, window: timedelta, now: datetime) -> int:
    """Whole seconds until fewer than `limit` failures remain in the window (0: not throttled):
    that is when the limit-th newest failure leaves it."""
    if len(newest_first) < limit:
        return 0
    return max(1, math.ceil((newest_first[limit - 1] + window - now).total_seconds()))


def resolve_bearer(
    session: Session, token: str, *, signing_key: str, now: datetime
) -> ResolvedBearer:
    """The Actor behind a bearer token, reloaded from the database on every request so that
    disabling a user, changing a role or revoking a device takes effect at once."""
    if token.startswith(DEVICE_TOKEN_PREFIX):
        return _resolve_device_token(session, token, now=now)
    claims = read_access_token(token, signing_key)
    user = users_repo.get_user(session, claims.user_id)
    if user is None:
        raise Unauthenticated("the access token is not valid", code="invalid_token")
    _require_active(user)
    return ResolvedBearer(Actor(user_id=user.id, username=user.username, role=user.role), False)


def _resolve_device_token(session: Session, token: str, *, now: datetime) -> ResolvedBearer:
    found = devices_repo.device_and_user_by_token_hash(session, hash_device_token(token))
    if found is None:
        raise Unauthenticated("the device token is not valid", code="invalid_token")
    device, user = found
    if device.revoked_at is not None:
        raise Unauthenticated(
            "este dispositivo fue revocado; vuelva a registrarlo", code="device_revoked"
        )
    _require_active(user)
    if user.role not in DEVICE_ROLES:
        raise Unauthenticated(
            "the device's user no longer has a field role", code="device_not_allowed"
        )
    touched = device.last_seen_at is None or now - device.last_seen_at >= LAST_SEEN_RESOLUTION
    if touched:
        devices_repo.touch_last_seen(session, device.id, now=now)
    actor = Actor(user_id=user.id, username=user.username, role=user.role, device_id=device.id)
    return ResolvedBearer(actor, touched)


def _require_active(user: User) -> None:
    if not user.active:
        raise Unauthenticated("el usuario está desactivado", code="user_disabled")
