"""Retry policy and the background helper: backoff schedule, stop rules, liveness."""

from __future__ import annotations

import queue
import random
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from mobile.services.background import BackgroundSync, Backoff, sync_until_quiet
from mobile.services.recording import record_payment
from mobile.services.syncing import SyncReport, sync_once
from tests.mobile.conftest import MORNING
from tests.mobile.fake_server import FakeServer
from tests.mobile.test_syncing import OUTAGE, A

FAIL = SyncReport(error_kind="retryable", error_message="down", pending_left=1)
SLOW_DOWN = SyncReport(error_kind="retryable", retry_after_s=120.0, pending_left=1)
QUIET = SyncReport(pending_left=0)


def scripted(*reports: SyncReport) -> tuple[list[SyncReport], Callable[[], SyncReport]]:
    calls: list[SyncReport] = []
    it = iter(reports)

    def cycle() -> SyncReport:
        calls.append(next(it))
        return calls[-1]

    return calls, cycle


def test_full_jitter_ceilings_double_up_to_the_cap() -> None:
    backoff = Backoff(base_s=2, cap_s=60)
    assert [backoff.ceiling(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    rng = random.Random(1)
    for n in range(1, 8):
        for _ in range(50):
            assert 0 <= backoff.delay(n, rng) <= backoff.ceiling(n)
    # Retry-After is a floor, itself capped.
    assert backoff.delay(1, random.Random(1), retry_after_s=30) == 30
    assert Backoff(max_server_pause_s=600).delay(1, random.Random(1), 86400) == 600


def test_retryable_failures_wait_per_the_schedule_until_quiet() -> None:
    calls, cycle = scripted(FAIL, FAIL, SLOW_DOWN, FAIL, QUIET)
    slept: list[float] = []
    report = sync_until_quiet(
        cycle,
        backoff=Backoff(base_s=1, cap_s=8),
        rng=random.Random(42),
        sleep=slept.append,
    )
    assert report is QUIET and len(calls) == 5
    expected = random.Random(42)
    assert slept == [
        expected.uniform(0, 1),
        expected.uniform(0, 2),
        max(expected.uniform(0, 4), 120.0),
        expected.uniform(0, 8),
    ]


def test_failures_a_retry_cannot_fix_stop_at_once() -> None:
    for kind in ("reauth", "upgrade", "bad_request", "already_running"):
        failure = SyncReport(error_kind=kind, pending_left=3)
        calls, cycle = scripted(failure, QUIET)
        slept: list[float] = []
        assert sync_until_quiet(cycle, sleep=slept.append) is failure
        assert (len(calls), slept) == (1, [])


def test_gives_up_after_max_cycles() -> None:
    calls, cycle = scripted(*[FAIL] * 10)
    slept: list[float] = []
    report = sync_until_quiet(cycle, max_cycles=4, sleep=slept.append)
    assert (report, len(calls), len(slept)) == (FAIL, 4, 4)


def test_pending_reaches_zero_within_two_cycles(db: sessionmaker[Session]) -> None:
    """A payment recorded after the push phase (during the pull) goes in the next cycle; one
    recorded during the push phase goes in the same cycle."""
    record_payment(db, client_id=A, amount=Decimal(1000), method="cash", now=MORNING)
    server = FakeServer()

    def pay(amount: int) -> None:
        if amount:
            record_payment(db, client_id=A, amount=Decimal(amount), method="cash", now=MORNING)

    during_push, during_pull = iter([2000]), iter([3000])
    server.on_push = lambda: pay(next(during_push, 0))
    server.on_pull = lambda: pay(next(during_pull, 0))
    reports: list[SyncReport] = []

    def cycle() -> SyncReport:
        reports.append(sync_once(db, server, now=lambda: MORNING))
        return reports[-1]

    final = sync_until_quiet(cycle, sleep=lambda _: None)
    assert [r.pending_left for r in reports] == [1, 0]
    assert final.ok and len(server.recorded) == 3


def test_an_outage_heals_after_backoff(db: sessionmaker[Session]) -> None:
    record_payment(db, client_id=A, amount=Decimal(1000), method="cash", now=MORNING)
    server = FakeServer(push_faults=[OUTAGE, OUTAGE])
    slept: list[float] = []
    report = sync_until_quiet(
        lambda: sync_once(db, server, now=lambda: MORNING), rng=random.Random(3),
        sleep=slept.append,
    )  # fmt: skip
    assert (report.ok, report.pending_left, len(server.pushes)) == (True, 0, 3)
    assert len(slept) == 2 and all(s >= 5.0 for s in slept)  # Retry-After: 5


def test_background_sync_runs_when_asked_and_reports() -> None:
    calls, cycle = scripted(QUIET, QUIET)
    got: queue.Queue[SyncReport] = queue.Queue()
    worker = BackgroundSync(cycle, on_report=got.put, interval_s=3600)
    worker.start()
    worker.request()
    assert got.get(timeout=30) is QUIET
    worker.request()
    assert got.get(timeout=30) is QUIET
    worker.stop()
    assert len(calls) == 2


def test_background_sync_survives_a_local_fault() -> None:
    def broken() -> SyncReport:
        raise OSError("disk full")

    got: queue.Queue[SyncReport] = queue.Queue()
    worker = BackgroundSync(broken, on_report=got.put, interval_s=3600)
    worker.start()
    worker.request()
    report = got.get(timeout=30)
    assert (report.error_kind, report.error_message) == ("internal_error", "OSError('disk full')")
    worker.request()
    assert got.get(timeout=30).error_kind == "internal_error"  # the thread is still there
    worker.stop()
