"""Retrying sync cycles for the UI: exponential backoff with full jitter, and a background thread
that syncs on a timer or when asked (after a payment is recorded, when the network returns).

Clock, randomness and sleep are injected so tests run the whole schedule instantly."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

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


class BackgroundSync:
    """A daemon thread running `sync_until_quiet(cycle)` every `interval_s` seconds and whenever
    `request()` is called; each final report goes to `on_report` (the UI's state)."""

    def __init__(
        self,
        cycle: Callable[[], SyncReport],
        *,
        on_report: Callable[[SyncReport], None],
        interval_s: float = 900.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._cycle, self._on_report = cycle, on_report
        self._interval_s = interval_s
        self._backoff, self._rng = backoff or Backoff(), rng or random.Random()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="recaudo-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request(self) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                report = sync_until_quiet(
                    self._cycle, backoff=self._backoff, rng=self._rng, stop=self._stop
                )
            except Exception as exc:  # a local fault (disk full...): report it, keep the thread
                log.exception("background sync failed")
                report = SyncReport(error_kind="internal_error", error_message=repr(exc))
            self._on_report(report)
