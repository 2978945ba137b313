"""Sync without a tap: exponential backoff with full jitter, the schedule of background cycles
(on opening, on a timer, soon after each recorded event, backing off while offline), and the
thread that runs them while the app is open.

Clock, randomness and sleep are injected so tests run the whole schedule instantly."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mobile.services.syncing import SyncReport

log = logging.getLogger(__name__)

# Worth retrying by themselves; reauth, upgrade and bad_request need a person or a new app.
RETRY_KINDS = frozenset({"retryable", "checksum_mismatch"})


@dataclass(frozen=True)
class Backoff:
    """Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the n-th
    consecutive failure waits uniform(0, min(cap, base * 2**(n-1))); a server's Retry-After is
    a floor, up to `max_server_pause_s`."""

    base_s: float = 2.0
    cap_s: float = 300.0
    max_server_pause_s: float = 3600.0

    def ceiling(self, failures: int) -> float:
        return min(self.cap_s, self.base_s * 2.0 ** max(0, failures - 1))

    def delay(self, failures: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        wait = rng.uniform(0, self.ceiling(failures))
        if retry_after_s is not None:
            wait = max(wait, min(retry_after_s, self.max_server_pause_s))
        return wait


def sync_until_quiet(
    cycle: Callable[[], SyncReport],
    *,
    backoff: Backoff | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] | None = None,
    max_cycles: int = 8,
    stop: threading.Event | None = None,
) -> SyncReport:
    """Run sync cycles until nothing is pending and a cycle completed, a failure needs a person
    (reauth, upgrade, bad request), another sync is running, or `max_cycles` ran. Retryable
    failures wait per `backoff` first; `stop` interrupts a wait."""
    backoff = backoff or Backoff()
    rng = rng or random.Random()
    stop = stop or threading.Event()

    def wait(seconds: float) -> None:
        if sleep is not None:
            sleep(seconds)
        else:
            stop.wait(seconds)

    failures = 0
    report = SyncReport(error_kind="retryable", error_message="no sync cycle ran")
    for _ in range(max_cycles):
        report = cycle()
        if report.already_running:
            return report
        if report.ok:
            if report.pending_left == 0:
                return report
            failures = 0  # rows recorded during the cycle: go again at once
            continue
        if report.error_kind not in RETRY_KINDS:
            return report
        failures += 1
        wait(backoff.delay(failures, rng, report.retry_after_s))
        if stop.is_set():
            return report
    return report


@dataclass
class SyncSchedule:
    """When the next background cycle is due, in seconds of a monotonic clock. Pure: the thread
    below feeds it the clock, and tests feed it a fake one.

    - the app opens: a first cycle after `first_s` (pull the day's changes, send what is left);
    - a field action was saved (`requested`): a cycle within `debounce_s`, so a visit, a promise
      and a payment recorded in a row go in one push; a request never postpones a due cycle;
    - a cycle completed: the next one after `interval_s`, or at once-ish (`debounce_s`) when rows
      were recorded while it ran;
    - a retryable failure (offline, 5xx, 429): exponential backoff with full jitter (`Backoff`,
      Retry-After as a floor), at least `min_wait_s`; a failure a retry cannot fix (reauth,
      upgrade, a bad request, not registered) waits at least `interval_s`;
    - another sync holds the single flight (a tap on "Sincronizar ahora"): look again after
      `debounce_s`.
    """

    interval_s: float = 300.0
    debounce_s: float = 3.0
    first_s: float = 2.0
    min_wait_s: float = 1.0
    backoff: Backoff = field(default_factory=Backoff)
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0  # consecutive, reset by a completed cycle
    due: float = 0.0

    def opened(self, now: float) -> None:
        self.due = now + self.first_s

    def requested(self, now: float) -> None:
        self.due = min(self.due, now + self.debounce_s)

    def finished(self, now: float, report: SyncReport) -> float:
        """Schedule the cycle after `report`; returns the wait chosen."""
        if report.ok:
            self.failures = 0
            wait = self.debounce_s if report.pending_left else self.interval_s
        elif report.already_running:
            wait = self.debounce_s
        else:
            self.failures += 1
            wait = self.backoff.delay(self.failures, self.rng, report.retry_after_s)
            if report.error_kind not in RETRY_KINDS:
                wait = max(wait, self.interval_s)  # a person has to act: do not insist
        wait = max(wait, self.min_wait_s)
        self.due = now + wait
        return wait


class BackgroundSync:
    """A daemon thread running one sync `cycle` whenever `SyncSchedule` says it is due; each
    report goes to `on_report` (the UI's state), `on_start` is told when a cycle begins.

    Never two cycles at once (the thread runs them one by one, and `sync_once` is single-flight
    against a tap on "Sincronizar ahora"); never on the UI's thread. `stop()` ends the thread
    after the cycle under way, if any (each request has its deadline); `start()` after a stop
    starts a fresh thread (a web session that reconnects)."""

    def __init__(
        self,
        cycle: Callable[[], SyncReport],
        *,
        on_report: Callable[[SyncReport], None],
        on_start: Callable[[], None] | None = None,
        schedule: SyncSchedule | None = None,
        interval_s: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cycle, self._on_report, self._on_start = cycle, on_report, on_start
        self.schedule = schedule or SyncSchedule()
        if interval_s is not None:
            self.schedule.interval_s = interval_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def start(self) -> None:
        if self.running:
            return
        with self._lock:
            self.schedule.opened(self._monotonic())
        self._stop = threading.Event()  # each thread its own: an old one still ending stays ended
        self._wake = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(self._stop, self._wake), name="recaudo-sync", daemon=True
        )
        self._thread.start()

    def request(self) -> None:
        """Sync soon (debounced): a field action was just saved."""
        with self._lock:
            self.schedule.requested(self._monotonic())
        self._wake.set()

    def stop(self, timeout_s: float | None = 30.0) -> None:
        """Stop; wait up to `timeout_s` for a cycle under way (None: do not wait)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if (
            timeout_s is not None
            and thread is not None
            and thread is not threading.current_thread()
        ):
            thread.join(timeout_s)

    def _loop(self, stop: threading.Event, wake: threading.Event) -> None:
        while not stop.is_set():
            with self._lock:
                wait = self.schedule.due - self._monotonic()
            if wait > 0:
                wake.wait(wait)
                wake.clear()
                continue
            report = self._run_once()
            with self._lock:
                self.schedule.finished(self._monotonic(), report)
            try:
                self._on_report(report)
            except Exception:  # the UI went away (a closed web session): keep the thread
                log.exception("background sync report not delivered")

    def _run_once(self) -> SyncReport:
        try:
            if self._on_start is not None:
                self._on_start()
            return self._cycle()
        except Exception as exc:  # a local fault (disk full...): report it, keep the thread
            log.exception("background sync failed")
            return SyncReport(error_kind="internal_error", error_message=repr(exc))
