"""Retry policy and the background helper: backoff schedule, stop rules, liveness."""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from mobile.net.outcomes import Failure
from mobile.services.background import BackgroundSync, Backoff, SyncSchedule, sync_until_quiet
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


def quiet_schedule(**changes: float) -> SyncSchedule:
    """Nothing due until asked (first_s: an hour), then a cycle at once."""
    values = {"interval_s": 3600.0, "debounce_s": 0.0, "first_s": 3600.0, "min_wait_s": 0.0}
    values.update(changes)
    return SyncSchedule(rng=random.Random(7), **values)  # type: ignore[arg-type]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_schedule_on_opening_on_requests_and_after_each_outcome() -> None:
    schedule = SyncSchedule(
        interval_s=300, debounce_s=3, first_s=2, backoff=Backoff(base_s=2, cap_s=60),
        rng=random.Random(5),
    )  # fmt: skip
    schedule.opened(100.0)
    assert schedule.due == 102.0  # the app opens: a first cycle soon
    assert schedule.finished(102.5, QUIET) == 300 and schedule.due == 402.5
    schedule.requested(110.0)  # a payment saved: within the debounce, not in five minutes
    assert schedule.due == 113.0
    schedule.requested(111.0)  # a second record in a row never postpones the first
    assert schedule.due == 113.0
    # Rows recorded while the cycle ran: another cycle after the debounce, not the interval.
    assert schedule.finished(114.0, SyncReport(pending_left=2)) == 3
    # A tap's sync holds the flight: look again shortly, no failure counted.
    assert schedule.finished(118.0, SyncReport(error_kind="already_running")) == 3
    assert schedule.failures == 0


def test_offline_backs_off_with_full_jitter_and_a_success_resets_it() -> None:
    schedule = SyncSchedule(
        interval_s=300, min_wait_s=1, backoff=Backoff(base_s=2, cap_s=60), rng=random.Random(9)
    )
    expected = random.Random(9)
    waits = [schedule.finished(0.0, FAIL) for _ in range(8)]
    ceilings = [2, 4, 8, 16, 32, 60, 60, 60]
    assert waits == [max(1.0, expected.uniform(0, c)) for c in ceilings]
    assert schedule.failures == 8
    assert schedule.finished(0.0, SLOW_DOWN) >= 120  # the server's Retry-After is a floor
    assert schedule.finished(0.0, QUIET) == 300 and schedule.failures == 0
    assert schedule.finished(0.0, FAIL) <= 2  # starts over from the base


def test_failures_that_need_a_person_wait_at_least_the_interval() -> None:
    schedule = SyncSchedule(interval_s=300, backoff=Backoff(base_s=2, cap_s=60))
    for kind in ("reauth", "upgrade", "bad_request", "not_registered", "internal_error"):
        assert schedule.finished(0.0, SyncReport(error_kind=kind)) >= 300


def test_background_sync_runs_when_asked_and_reports() -> None:
    calls, cycle = scripted(QUIET, QUIET)
    got: queue.Queue[SyncReport] = queue.Queue()
    worker = BackgroundSync(cycle, on_report=got.put, schedule=quiet_schedule())
    worker.start()
    worker.request()
    assert got.get(timeout=30) is QUIET
    worker.request()
    assert got.get(timeout=30) is QUIET
    worker.stop()
    assert len(calls) == 2 and not worker.running


def test_background_sync_survives_a_local_fault() -> None:
    def broken() -> SyncReport:
        raise OSError("disk full")

    got: queue.Queue[SyncReport] = queue.Queue()
    worker = BackgroundSync(broken, on_report=got.put, schedule=quiet_schedule())
    worker.start()
    worker.request()
    report = got.get(timeout=30)
    assert (report.error_kind, report.error_message) == ("internal_error", "OSError('disk full')")
    worker.request()
    assert got.get(timeout=30).error_kind == "internal_error"  # the thread is still there
    worker.stop()


def test_a_report_the_ui_cannot_take_does_not_end_the_thread() -> None:
    calls, cycle = scripted(QUIET, QUIET)
    delivered: queue.Queue[SyncReport] = queue.Queue()

    def on_report(report: SyncReport) -> None:
        delivered.put(report)
        raise RuntimeError("the page is gone")

    worker = BackgroundSync(cycle, on_report=on_report, schedule=quiet_schedule())
    worker.start()
    worker.request()
    delivered.get(timeout=30)
    worker.request()
    delivered.get(timeout=30)
    worker.stop()
    assert len(calls) == 2


def test_offline_then_back_drains_the_outbox_without_a_request(db: sessionmaker[Session]) -> None:
    """The server is down for two pushes; the thread backs off and tries again by itself (no
    request, no tap), and the outbox reaches zero."""
    record_payment(db, client_id=A, amount=Decimal(1000), method="cash", now=MORNING)
    server = FakeServer(push_faults=[Failure("retryable", "connection refused")] * 2)
    got: queue.Queue[SyncReport] = queue.Queue()
    schedule = quiet_schedule(first_s=0.0, min_wait_s=0.0, interval_s=3600.0)
    schedule.backoff = Backoff(base_s=0.01, cap_s=0.05)
    worker = BackgroundSync(
        lambda: sync_once(db, server, now=lambda: MORNING), on_report=got.put, schedule=schedule
    )
    worker.start()
    reports = [got.get(timeout=30) for _ in range(3)]
    worker.stop()
    assert [r.error_kind for r in reports] == ["retryable", "retryable", None]
    assert reports[-1].pending_left == 0 and len(server.recorded) == 1
    assert schedule.failures == 0


def test_never_two_cycles_at_once_under_many_requests() -> None:
    lock = threading.Lock()
    running, most, done = [0], [0], queue.Queue[int]()

    def cycle() -> SyncReport:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        threading.Event().wait(0.002)  # hold the cycle while other threads ask
        with lock:
            running[0] -= 1
        return QUIET

    worker = BackgroundSync(cycle, on_report=lambda _: done.put(1), schedule=quiet_schedule())
    worker.start()
    askers = [
        threading.Thread(target=lambda: [worker.request() for _ in range(50)]) for _ in range(4)
    ]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    done.get(timeout=30)
    worker.stop()
    assert most[0] == 1


def test_stop_ends_the_thread_and_start_begins_a_fresh_one() -> None:
    calls, cycle = scripted(QUIET, QUIET, QUIET)
    got: queue.Queue[SyncReport] = queue.Queue()
    clock = FakeClock()
    worker = BackgroundSync(cycle, on_report=got.put, schedule=quiet_schedule(), monotonic=clock)
    worker.start()
    worker.stop()
    assert not worker.running
    worker.request()  # asked while stopped: nothing runs
    worker.start()  # a web session reconnected
    worker.request()
    assert got.get(timeout=30) is QUIET
    worker.stop()
    assert len(calls) == 1
