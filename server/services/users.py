"""User accounts: creation with the naming and password rules, listing, disabling.
Never commits (the caller does); every change leaves an audit_log row."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db.models import ROLES, AuditLog, User
from server.repositories import users as users_repo
from server.services.security import hash_password
from shared.errors import Conflict, InvalidInput, NotFound

USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{3,64}")
MIN_PASSWORD_LENGTH = 8
# argon2 accepts any length; a cap keeps one request from costing megabytes of hashing.
MAX_PASSWORD_LENGTH = 256
MAX_FULL_NAME_LENGTH = 200


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def validate_username(raw: str) -> str:
    username = normalise_username(raw)
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(
            "el usuario debe tener de 3 a 64 caracteres: letras a-z, dígitos, '.', '_' o '-'",
            code="invalid_username",
            details={"username": raw},
        )
    return username


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"la contraseña debe tener al menos {MIN_PASSWORD_LENGTH} caracteres",
            code="weak_password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"la contraseña no puede pasar de {MAX_PASSWORD_LENGTH} caracteres",
            code="password_too_long",
        )


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(
            f"el rol debe ser uno de: {', '.join(ROLES)}",
            code="invalid_role",
            details={"role": role, "allowed": list(ROLES)},
        )
    return role


def create_user(
    session: Session,
    *,
    username: str,
    role: str,
    password: str,
    full_name: str = "",
    actor_id: uuid.UUID | None = None,
) -> User:
    """A new active user. `actor_id` is who did it (None: the command line or a seed)."""
    name = validate_username(username)
    validate_role(role)
    validate_password(password)
    full_name = full_name.strip()
    if len(full_name) > MAX_FULL_NAME_LENGTH:
        raise InvalidInput(
            f"el nombre no puede pasar de {MAX_FULL_NAME_LENGTH} caracteres",
            code="invalid_full_name",
        )
    if users_repo.get_user_by_username(session, name) is not None:
        raise _taken(name)
    user = User(
        id=uuid.uuid4(),
        username=name,
        full_name=full_name,
        role=role,
        password_hash=hash_password(password),
        active=True,
    )
    try:
        # A savepoint, so losing a race with a concurrent insert leaves the caller's
        # transaction usable and answers the same error as the check above.
        with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise _taken(name) from exc
    _audit(session, actor_id, "user.created", user, {"username": name, "role": role})
    return user


def list_users(session: Session, *, include_inactive: bool = True) -> Sequence[User]:
    return users_repo.list_users(session, include_inactive=include_inactive)


def set_active(
    session: Session, *, username: str, active: bool, actor_id: uuid.UUID | None = None
) -> User:
    """Disable (or re-enable) a user. A disabled user's tokens and devices stop working at once,
    because every request reloads the user."""
    name = normalise_username(username)
    user = users_repo.get_user_by_username(session, name)
    if user is None:
        raise NotFound(f"no existe el usuario {name!r}", code="user_not_found")
    if user.active != active:
        user.active = active
        action = "user.enabled" if active else "user.disabled"
        _audit(session, actor_id, action, user, {"username": name})
    return user


def _taken(username: str) -> Conflict:
    return Conflict(
        f"ya existe un usuario {username!r}",
        code="username_taken",
        details={"username": username},
    )


def _audit(
    session: Session,
    actor_id: uuid.UUID | None,
    action: str,
    user: User,
    details: dict[str, str],
) -> None:
    session.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            entity="user",
            entity_id=str(user.id),
            details=details,
        )
    )
