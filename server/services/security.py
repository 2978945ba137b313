"""Password hashes (argon2), access tokens (JWT, HS256), device tokens (random, stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import Unauthenticated

# OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): argon2-cffi's default (64 MiB, 3 passes,
# 4 lanes) took about 0.5 s of CPU per login on our 2-core machines, an easy way to overload the
# server with login attempts. Hashes made with other parameters are upgraded at the next login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Verified against when a username does not exist, so a miss costs as much as a wrong
    password. Made on first use, not at import time."""
    return _hasher.hash("recaudo-no-such-user")


JWT_ALGORITHM = "HS256"

# The time source of every use case that reads "now"; routes get it from a dependency, so tests
# swap in a fake clock instead of sleeping.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        matched = _hasher.verify(password_hash or _dummy_hash(), password)
        return matched and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older argon2 parameters (rehash at the next login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    role: str
    expires_at: datetime


def issue_access_token(
    user_id: uuid.UUID, role: str, key: str, ttl: timedelta, now: datetime | None = None
) -> str:
    issued = now or datetime.now(UTC)
    claims = {"sub": str(user_id), "role": role, "iat": issued, "exp": issued + ttl, "typ": "user"}
    return jwt.encode(claims, key, algorithm=JWT_ALGORITHM)


def read_access_token(token: str, key: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token, key, algorithms=[JWT_ALGORITHM], options={"require": ["sub", "exp", "role"]}
        )
        if claims.get("typ") != "user":
            raise jwt.InvalidTokenError("not a user token")
        return TokenClaims(
            user_id=uuid.UUID(claims["sub"]),
            role=str(claims["role"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("the access token has expired", code="token_expired") from exc
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise Unauthenticated("the access token is not valid", code="invalid_token") from exc


DEVICE_TOKEN_PREFIX = "rdt_"


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_device_token(token: str) -> str:
    """Device tokens are 256 random bits, so a fast hash is enough (no dictionary to attack)."""
    return hashlib.sha256(token.encode()).hexdigest()
