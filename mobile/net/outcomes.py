"""What a request to the server came to, as data the sync loop can decide on.

Every failure keeps the outbox: `retryable` is tried again later with backoff (the same request
converges), `reauth` waits for a new login, `upgrade` for a new app, `resync` means pull from an
empty cursor, `bad_request` is a bug on one side, reported and not retried in a loop. `revoked`
(401 `device_revoked`: an admin revoked this device, a lost phone) never syncs again and leads
to the wipe (mobile.services.wiping).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

FailureKind = Literal["retryable", "reauth", "revoked", "upgrade", "resync", "bad_request"]


@dataclass(frozen=True)
class Ok(Generic[T]):
    value: T
    server_time: datetime | None = None  # the answer's HTTP Date: the server's clock, if sent


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    message: str
    status: int | None = None  # HTTP status, None for a network error or timeout
    code: str | None = None  # the server's stable error code when it sent one
    retry_after_s: float | None = None  # from Retry-After, when the server asked for a pause

    def describe(self) -> str:
        where = f"HTTP {self.status}" if self.status is not None else "network"
        code = f" {self.code}" if self.code else ""
        return f"{self.kind} ({where}{code}): {self.message}"


Outcome = Ok[T] | Failure
