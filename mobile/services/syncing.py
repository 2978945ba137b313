"""The sync loop (sync-protocol.md, "The phone"): push the outbox, then pull the mirror.

`sync_once` is single-flight (a second caller gets "already_running" at once). It pushes pending
rows in `device_seq` order in chunks within the protocol's limits (each push counted on its rows
before it is sent, its failure written on them), applies every answer with
`outbox.apply_push_results`, then pulls pages until `has_more` is false, each page applied with
its cursor in one transaction, and checks the scope checksum after the last page (a mismatch
clears the mirror and pulls again, once). A new `server_epoch` (the server was restored from a
backup) puts every retained row back to pending and clears the mirror, then pushes and pulls
again. A `413` (a proxy with a lower body limit) halves the chunk, down to one event, for the
rest of the cycle. Every failure leaves the outbox as it was: the next cycle retries the same rows.
A `401 device_revoked` marks the phone revoked (mobile.services.wiping): no cycle after it sends
anything, each one answers `error_kind="revoked"` at once.

Retention of acknowledged rows runs on the server's clock: each answer's HTTP `Date` advances
`sync_state.server_time` (never backwards), acknowledgements are stamped with it, and a completed
cycle purges rows stamped more than 30 days before it. A phone clock a year off purges nothing
early; a server that never sends `Date` gets nothing purged (kept longer is the safe side).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import EventStatus
from mobile.net.client import SyncClient, Timeouts, json_bytes
from mobile.net.outcomes import Failure, Outcome
from mobile.services.device import pending_count, sync_state
from mobile.services.exporting import event_body
from mobile.services.outbox import (
    ACK_RETENTION,
    apply_push_results,
    pending_rows,
    purge_acked,
    record_attempt,
    record_error,
    requeue_recorded,
    state_for,
)
from mobile.services.pulling import apply_page, checksum_mismatch, clear_mirror, resync
from mobile.services.singleflight import single_flight
from mobile.services.wiping import is_revoked, mark_revoked
from sync.protocol import (
    MAX_EVENTS_PER_PUSH,
    MAX_PUSH_BYTES,
    PROTOCOL_VERSION,
    PullResponse,
    PushResponse,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SyncApi(Protocol):
    """What the loop needs from the server (`mobile.net.client.SyncClient`, or a test fake)."""

    def push(self, body: Mapping[str, Any]) -> Outcome[PushResponse]: ...

    def pull(self, cursor: str, limit: int) -> Outcome[PullResponse]: ...


@dataclass(frozen=True)
class SyncOptions:
    app_version: str = "0.1.0"
    chunk_events: int = MAX_EVENTS_PER_PUSH
    chunk_bytes: int = MAX_PUSH_BYTES
    pull_limit: int = 500
    max_resyncs: int = 1  # per cycle; a mismatch right after a resync is reported, not looped
    max_rounds: int = 3  # push+pull rounds per cycle (a round repeats after an epoch change)
    ack_retention: timedelta = ACK_RETENTION


@dataclass
class SyncReport:
    to_push: int = 0  # pending when the cycle began: with `pushed`, a progress bar
    pushed: int = 0  # events sent in pushes the server answered
    acked: int = 0  # applied, or a duplicate of an applied event
    held: int = 0
    conflicts: int = 0
    pulled: int = 0  # changes received
    pending_left: int = 0
    last_success_at: datetime | None = None
    # None when the cycle completed; else a Failure kind, "already_running" or "checksum_mismatch".
    error_kind: str | None = None
    error_message: str = ""
    http_status: int | None = None
    retry_after_s: float | None = None
    resyncs: int = 0
    epoch_changed: bool = False
    requeued: int = 0  # rows put back to pending by an epoch change
    phase: str = "idle"  # push, pull, done: for a progress display

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def already_running(self) -> bool:
        return self.error_kind == "already_running"


Progress = Callable[[SyncReport], None]


def open_client(
    db: sessionmaker[Session],
    *,
    app_version: str,
    transport: Any = None,
    timeouts: Timeouts | None = None,
) -> SyncClient:
    """A transport for this phone's server and device token (as registered)."""
    with db() as session:
        state = sync_state(session)
        url, token = state.server_url, state.device_token
    return SyncClient(url, token, app_version=app_version, transport=transport, timeouts=timeouts)


def _flight(db: sessionmaker[Session]) -> tuple[str, Path | None]:
    engine = db.kw["bind"]
    name = engine.url.database
    if not name or name == ":memory:":
        return f"engine-{id(engine)}", None
    path = Path(name).resolve()
    return str(path), path.with_name(path.name + ".sync-lock")


def sync_once(
    db: sessionmaker[Session],
    api: SyncApi,
    *,
    now: Clock = utc_now,
    options: SyncOptions | None = None,
    on_progress: Progress | None = None,
) -> SyncReport:
    """One sync cycle. Never raises for a network or server problem: the report says what
    happened (`error_kind`), how much moved, and what is left pending."""
    if is_revoked(db):
        with db() as session:
            pending = pending_count(session)
        return SyncReport(
            pending_left=pending, error_kind="revoked", error_message="this device was revoked"
        )
    key, lock_file = _flight(db)
    with single_flight(key, lock_file) as mine:
        if not mine:
            with db() as session:
                pending = pending_count(session)
            return SyncReport(
                pending_left=pending,
                error_kind="already_running",
                error_message="a sync is already running",
            )
        cycle = _Cycle(db, api, now, options or SyncOptions(), on_progress)
        try:
            cycle.run()
        finally:
            cycle.finish()
        return cycle.report


class _Pulled(Enum):
    DONE = "done"
    FAILED = "failed"
    RESTART = "restart"  # a new epoch: push again, then pull from zero


class _Cycle:
    def __init__(
        self,
        db: sessionmaker[Session],
        api: SyncApi,
        now: Clock,
        options: SyncOptions,
        on_progress: Progress | None,
    ) -> None:
        self.db, self.api, self.now, self.options = db, api, now, options
        self.on_progress = on_progress
        self.report = SyncReport()
        self.chunk_events = options.chunk_events  # halved by each 413 for the rest of the cycle
        with db() as session:
            self.epoch = sync_state(session).server_epoch  # only this cycle changes it
            self.report.to_push = pending_count(session)

    def run(self) -> None:
        for _ in range(self.options.max_rounds):
            if not self._push_all():
                return
            pulled = self._pull_all()
            if pulled is _Pulled.FAILED:
                return
            if pulled is _Pulled.DONE:
                self._succeeded()
                return
        self._fail("retryable", "the server epoch kept changing during this sync")

    def finish(self) -> None:
        with self.db() as session:
            self.report.pending_left = pending_count(session)
            self.report.last_success_at = sync_state(session).last_sync_at
        self._progress("done")

    # --- push ---------------------------------------------------------------------------

    def _next_chunk(self) -> dict[str, Any]:
        """Pending rows in device_seq order, at most chunk_events (or the smaller cap a 413
        left) and chunk_bytes of JSON."""
        with self.db() as session:
            state = sync_state(session)
            body: dict[str, Any] = {
                "protocol": PROTOCOL_VERSION,
                "device_id": state.device_id,
                "app_version": self.options.app_version,
                "events": [],
            }
            size = len(json_bytes(body))
            for row in pending_rows(session, limit=self.chunk_events):
                event = event_body(row)
                grow = len(json_bytes(event)) + (1 if body["events"] else 0)  # comma
                if body["events"] and size + grow > self.options.chunk_bytes:
                    break
                body["events"].append(event)
                size += grow
        return body

    def _push_all(self) -> bool:
        while True:
            body = self._next_chunk()
            ids = [event["event_id"] for event in body["events"]]
            if not ids:
                return True
            self._progress("push")
            record_attempt(self.db, ids)
            outcome = self.api.push(body)
            if isinstance(outcome, Failure):
                record_error(self.db, ids, outcome.describe())
                if outcome.status == 413 and len(ids) > 1:
                    # A proxy with a lower body limit than the protocol's: send the same rows
                    # in halves, down to one event, before reporting it.
                    self.chunk_events = len(ids) // 2
                    continue
                self._failed(outcome)
                return False
            response = outcome.value
            self._check_epoch(response.server_epoch)
            stamp = self._server_clock(outcome.server_time) or self.now()
            sent = set(ids)
            mine = [r for r in response.results if str(r.event_id) in sent]
            apply_push_results(self.db, mine, now=stamp)
            self.report.pushed += len(ids)
            for result in mine:
                state = state_for(result)
                if state == "acked":
                    self.report.acked += 1
                elif state == "held":
                    self.report.held += 1
                else:
                    self.report.conflicts += 1
            missing = len(sent - {str(r.event_id) for r in mine})
            if missing:  # those rows would be sent again forever: stop and say so
                message = f"the server answered for {len(ids) - missing} of {len(ids)} events"
                record_error(self.db, ids, message)
                self._fail("bad_request", message)
                return False

    # --- pull ---------------------------------------------------------------------------

    def _pull_all(self) -> _Pulled:
        resyncs = 0
        while True:
            with self.db() as session:
                cursor = sync_state(session).cursor
            self._progress("pull")
            outcome = self.api.pull(cursor, self.options.pull_limit)
            if isinstance(outcome, Failure):
                if outcome.kind == "resync" and resyncs < self.options.max_resyncs:
                    resyncs += 1
                    self._resync()
                    continue
                self._failed(outcome)
                return _Pulled.FAILED
            page = outcome.value
            self._server_clock(outcome.server_time)
            if self._check_epoch(page.server_epoch):
                return _Pulled.RESTART
            if page.has_more and page.next_cursor == cursor:
                self._fail("bad_request", "the server's pull cursor did not advance")
                return _Pulled.FAILED
            try:
                apply_page(self.db, page, now=self.now())
            except ValidationError as exc:
                self._fail("bad_request", f"a pulled change could not be read: {exc}")
                return _Pulled.FAILED
            self.report.pulled += len(page.changes)
            if page.has_more:
                continue
            if page.scope_checksum is None:
                return _Pulled.DONE
            with self.db() as session:
                why = checksum_mismatch(session, page.scope_checksum)
            if why is None:
                return _Pulled.DONE
            if resyncs >= self.options.max_resyncs:
                self._fail("checksum_mismatch", why)
                return _Pulled.FAILED
            resyncs += 1
            self._resync()

    def _resync(self) -> None:
        resync(self.db)
        self.report.resyncs += 1

    # --- epochs, outcome ----------------------------------------------------------------

    def _check_epoch(self, epoch: str) -> bool:
        """Adopt the server's epoch; True when it replaced a different one."""
        if epoch == self.epoch:
            return False
        with self.db.begin() as session:
            state = sync_state(session)
            changed = bool(state.server_epoch)
            if changed:
                self.report.requeued += requeue_recorded(session)
                clear_mirror(session)
                session.execute(delete(EventStatus))
            state.server_epoch = epoch
        self.epoch = epoch
        self.report.epoch_changed |= changed
        return changed

    def _server_clock(self, seen: datetime | None) -> datetime | None:
        """Advance the latest server time seen (never backwards); return it (None: no answer
        ever carried a Date)."""
        with self.db.begin() as session:
            state = sync_state(session)
            if seen is not None and (state.server_time is None or seen > state.server_time):
                state.server_time = seen
            return state.server_time

    def _succeeded(self) -> None:
        with self.db.begin() as session:
            state = sync_state(session)
            state.last_sync_at = self.now()
            server_now = state.server_time
        # Retention runs on the server's clock: the phone's may be off by a year either way.
        # With no server time yet, nothing is purged (rows kept longer is the safe side).
        if server_now is not None:
            purge_acked(self.db, now=server_now, keep=self.options.ack_retention)

    def _failed(self, failure: Failure) -> None:
        if failure.kind == "revoked":
            mark_revoked(self.db)
        self._fail(failure.kind, failure.message, failure.status, failure.retry_after_s)

    def _fail(
        self,
        kind: str,
        message: str,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        report = self.report  # the same object the progress callback was given
        report.error_kind, report.error_message = kind, message
        report.http_status, report.retry_after_s = status, retry_after_s

    def _progress(self, phase: str) -> None:
        self.report.phase = phase
        if self.on_progress is not None:
            self.on_progress(self.report)
