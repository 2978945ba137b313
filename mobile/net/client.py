"""`SyncClient`: push and pull over httpx with the device token.

Every request has a deadline: httpx's per-phase timeouts (connect, write, read per chunk, pool)
are each capped by the overall deadline, and the body is read as a stream with the clock checked
after each chunk, so a server that drips bytes cannot hold the sync loop past the deadline (by
more than one read timeout). Push bodies go gzip-compressed; gzip responses are decoded by httpx.
`transport=` takes any httpx transport: tests pass the FastAPI app's or a fault injector.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from mobile.net.outcomes import Failure, Ok, Outcome
from sync.protocol import PullResponse, PushResponse

M = TypeVar("M", bound=BaseModel)

_RETRYABLE_STATUS = frozenset({408, 425, 429})


class MeUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    username: str
    full_name: str


class Me(BaseModel):
    """The part of `GET /v1/me` the phone keeps (api.md); other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    user: MeUser


def json_bytes(value: Any) -> bytes:
    """The exact bytes sent for a JSON body (compact, UTF-8): what the 256 KB limit counts."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Timeouts:
    """Seconds. `deadline` bounds a whole request; the others are httpx's phases."""

    deadline: float = 20.0
    connect: float = 5.0
    write: float = 10.0
    read: float = 10.0
    pool: float = 5.0

    def httpx(self) -> httpx.Timeout:
        cap = self.deadline
        return httpx.Timeout(
            connect=min(self.connect, cap),
            read=min(self.read, cap),
            write=min(self.write, cap),
            pool=min(self.pool, cap),
        )


def retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110, 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def server_date(value: str | None) -> datetime | None:
    """An answer's `Date` header (RFC 9110, 6.6.1) as an aware instant; None if absent or bad."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _error_of(body: bytes) -> tuple[str | None, str]:
    """The server's `{"error": {"code", "message"}}`, tolerating any other body."""
    try:
        data = json.loads(body)
        error = data["error"]
        return str(error.get("code") or "") or None, str(error.get("message") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, body[:200].decode("utf-8", "replace")


def failure_for(status: int, headers: Mapping[str, str], body: bytes, now: datetime) -> Failure:
    """Map a non-2xx answer to what the sync loop should do about it."""
    code, message = _error_of(body)
    message = message or f"HTTP {status}"
    if status == 401 and code == "device_revoked":
        return Failure("revoked", message, status, code)
    if status in (401, 403):
        return Failure("reauth", message, status, code)
    if status == 426:
        return Failure("upgrade", message, status, code)
    if status == 409 and code == "resync_required":
        return Failure("resync", message, status, code)
    if status in _RETRYABLE_STATUS or status >= 500:
        pause = retry_after(headers.get("retry-after"), now)
        return Failure("retryable", message, status, code, pause)
    return Failure("bad_request", message, status, code)


class SyncClient:
    """One phone's connection to its server. Not thread-safe; the sync loop is single-flight."""

    def __init__(
        self,
        base_url: str,
        device_token: str,
        *,
        app_version: str = "0.1.0",
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.timeouts = timeouts or Timeouts()
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=self.timeouts.httpx(),
            headers={
                "Authorization": f"Bearer {device_token}",
                "User-Agent": f"recaudo-phone/{app_version}",
                "Accept": "application/json",
            },
        )

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def push(self, body: Mapping[str, Any]) -> Outcome[PushResponse]:
        """POST one chunk (a push request body) gzip-compressed."""
        content = gzip.compress(json_bytes(body), compresslevel=6, mtime=0)
        request = self._http.build_request(
            "POST",
            "/v1/sync/push",
            content=content,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        return self._exchange(request, PushResponse)

    def me(self) -> Outcome[Me]:
        """Who this device's token belongs to (`GET /v1/me`)."""
        return self._exchange(self._http.build_request("GET", "/v1/me"), Me)

    def pull(self, cursor: str, limit: int) -> Outcome[PullResponse]:
        request = self._http.build_request(
            "GET", "/v1/sync/pull", params={"cursor": cursor, "limit": limit}
        )
        return self._exchange(request, PullResponse)

    def _exchange(self, request: httpx.Request, model: type[M]) -> Outcome[M]:
        deadline = self._monotonic() + self.timeouts.deadline
        try:
            response = self._http.send(request, stream=True)
            try:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if self._monotonic() > deadline:
                        return self._late()
                if self._monotonic() > deadline:
                    return self._late()
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            return Failure("retryable", f"timeout ({type(exc).__name__})")
        except httpx.RequestError as exc:  # connection refused or reset, truncated, bad gzip
            return Failure("retryable", f"network error ({type(exc).__name__}: {exc})")
        if response.status_code != 200:
            when = server_date(response.headers.get("date")) or self._now()  # for Retry-After
            return failure_for(response.status_code, response.headers, bytes(body), when)
        try:
            value = model.model_validate_json(bytes(body))
        except ValidationError:
            # A body cut short by a proxy looks the same: asking again converges.
            return Failure("retryable", "the server's answer could not be read", 200)
        return Ok(value, server_date(response.headers.get("date")))

    def _late(self) -> Failure:
        return Failure("retryable", f"no complete answer within {self.timeouts.deadline:g} s")

    def _now(self) -> datetime:
        return self._wall_clock()
