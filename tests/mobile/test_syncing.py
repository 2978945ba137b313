"""The sync loop against an in-memory server: chunking, failures, epochs, resync, single flight."""

from __future__ import annotations

import fcntl
import gzip
import json
import random
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import ClientMirror, EventStatus, OutboxRow
from mobile.net.client import SyncClient
from mobile.net.outcomes import Failure
from mobile.services.device import sync_state
from mobile.services.recording import canonical_json, record_payment
from mobile.services.syncing import SyncOptions, SyncReport, sync_once
from sync.protocol import MAX_EVENTS_PER_PUSH, MAX_PUSH_BYTES, PaymentCollected, VisitRecorded
from tests.mobile.conftest import MORNING
from tests.mobile.fake_server import FakeServer
from tests.mobile.pages import checksum_of, page, put, status

A, B = str(uuid.uuid4()), str(uuid.uuid4())
OUTAGE = Failure("retryable", "service unavailable", 503, retry_after_s=5.0)


def visits(db: sessionmaker[Session], n: int, notes: str = "", client_id: str = A) -> None:
    """n visits as record_visit writes them, in one transaction (a backlog, quickly)."""
    payload = canonical_json(VisitRecorded(outcome="contacted", notes=notes))
    with db.begin() as session:
        state = sync_state(session)
        for seq in range(state.next_device_seq, state.next_device_seq + n):
            session.add(
                OutboxRow(event_id=str(uuid.uuid4()), device_seq=seq, type="visit.recorded",
                          client_id=client_id, device_time=MORNING.isoformat(), payload=payload)
            )  # fmt: skip
        state.next_device_seq += n


def outbox(db: sessionmaker[Session]) -> list[tuple[int, str, int, str | None]]:
    with db() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.device_seq))
        return [(r.device_seq, r.state, r.attempts, r.last_error) for r in rows]


def sent_seqs(server: FakeServer) -> list[int]:
    return [seq for push in server.pushes for seq in push]


def sync(db: sessionmaker[Session], server: FakeServer, **options: object) -> SyncReport:
    return sync_once(db, server, now=lambda: MORNING, options=SyncOptions(**options))  # type: ignore[arg-type]


def test_the_backlog_goes_in_device_seq_order_in_chunks_of_200(
    db: sessionmaker[Session],
) -> None:
    visits(db, 450)
    server = FakeServer()
    report = sync(db, server)
    assert [len(p) for p in server.pushes] == [200, 200, 50]
    assert sent_seqs(server) == list(range(1, 451))
    assert (report.ok, report.to_push, report.pushed, report.acked) == (True, 450, 450, 450)
    assert report.pending_left == 0
    assert report.last_success_at == MORNING
    assert {state for _, state, _, _ in outbox(db)} == {"acked"}


def test_chunks_stay_under_256_kb_of_json(db: sessionmaker[Session]) -> None:
    visits(db, 260, notes="x" * 2000)  # about 2.2 KB per event: 256 KB holds ~115
    server = FakeServer()
    assert sync(db, server).pending_left == 0
    assert all(size <= MAX_PUSH_BYTES for size in server.push_sizes)
    assert max(server.push_sizes) > MAX_PUSH_BYTES - 2500  # filled, not split needlessly
    assert len(server.pushes[0]) < MAX_EVENTS_PER_PUSH
    assert sent_seqs(server) == list(range(1, 261))


def test_a_failed_push_keeps_the_rows_and_says_why(db: sessionmaker[Session]) -> None:
    visits(db, 3)
    server = FakeServer(push_faults=[OUTAGE])
    report = sync(db, server)
    assert (report.error_kind, report.http_status, report.retry_after_s) == ("retryable", 503, 5.0)
    assert report.pending_left == 3
    assert report.last_success_at is None
    assert server.pulls == []  # no pull after a failed push
    assert outbox(db) == [
        (n, "pending", 1, "retryable (HTTP 503): service unavailable") for n in (1, 2, 3)
    ]
    report = sync(db, server)
    assert (report.ok, report.acked, report.pending_left) == (True, 3, 0)
    assert outbox(db) == [(n, "acked", 2, None) for n in (1, 2, 3)]


def test_held_and_conflict_are_counted_and_never_resent(db: sessionmaker[Session]) -> None:
    visits(db, 3)
    with db() as session:
        first, second, _ = session.scalars(
            select(OutboxRow.event_id).order_by(OutboxRow.device_seq)
        )
    server = FakeServer(held={first})
    server.recorded[second] = 0  # the server already has it: duplicate
    report = sync(db, server)
    assert (report.acked, report.held, report.conflicts) == (2, 1, 0)
    assert [state for _, state, _, _ in outbox(db)] == ["held", "acked", "acked"]
    sync(db, server)
    assert len(server.pushes) == 1


def test_retention_of_acked_rows_runs_on_the_servers_clock(db: sessionmaker[Session]) -> None:
    visits(db, 2)
    server = FakeServer(clock=MORNING)
    year_ahead = MORNING + timedelta(days=365)  # the phone's clock is a year off
    assert sync_once(db, server, now=lambda: year_ahead).ok
    assert [state for _, state, _, _ in outbox(db)] == ["acked", "acked"]
    server.clock = MORNING + timedelta(days=29)  # kept: re-pushed if the server is restored
    assert sync_once(db, server, now=lambda: year_ahead).ok
    assert len(outbox(db)) == 2
    server.clock = MORNING - timedelta(days=300)  # a server clock reading going back is ignored
    assert sync_once(db, server, now=lambda: MORNING).ok
    server.clock = MORNING + timedelta(days=31)  # 30 days on the server's clock: purged
    assert sync_once(db, server, now=lambda: MORNING - timedelta(days=365)).ok
    assert outbox(db) == []


def test_without_a_server_time_acked_rows_are_kept(db: sessionmaker[Session]) -> None:
    visits(db, 1)
    server = FakeServer()  # answers carry no Date
    assert sync_once(db, server, now=lambda: MORNING).ok
    assert sync_once(db, server, now=lambda: MORNING + timedelta(days=400)).ok
    assert [state for _, state, _, _ in outbox(db)] == ["acked"]


def test_a_held_event_answered_duplicate_stays_held(db: sessionmaker[Session]) -> None:
    visits(db, 1)
    with db() as session:
        (event_id,) = session.scalars(select(OutboxRow.event_id))
    server = FakeServer(held={event_id})
    server.recorded[event_id] = 0  # held on a first push whose answer was lost
    report = sync(db, server)
    assert (report.acked, report.held) == (0, 1)
    assert [state for _, state, _, _ in outbox(db)] == ["held"]


def test_a_413_from_a_proxy_halves_the_chunk_until_it_passes(db: sessionmaker[Session]) -> None:
    visits(db, 450)
    server = FakeServer(proxy_limit=60)
    report = sync(db, server)
    assert (report.ok, report.pushed, report.pending_left) == (True, 450, 0)
    # 200 and 100 refused; then 50 at a time for the rest of the cycle
    assert [len(p) for p in server.pushes] == [200, 100] + [50] * 9
    assert sent_seqs(server)[300:] == list(range(1, 451))
    assert {(state, error) for _, state, _, error in outbox(db)} == {("acked", None)}


def test_a_413_for_a_single_event_is_reported(db: sessionmaker[Session]) -> None:
    visits(db, 5)
    server = FakeServer(proxy_limit=0)
    report = sync(db, server)
    assert (report.error_kind, report.http_status, report.pending_left) == ("bad_request", 413, 5)
    assert [len(p) for p in server.pushes] == [5, 2, 1]
    assert "413" in (outbox(db)[0][3] or "")


def test_an_answer_missing_events_stops_instead_of_looping(db: sessionmaker[Session]) -> None:
    visits(db, 5)
    server = FakeServer(drop_results=2)
    report = sync(db, server)
    assert (report.error_kind, report.pending_left) == ("bad_request", 2)
    assert "3 of 5" in report.error_message
    assert len(server.pushes) == 1


def test_pull_pages_until_has_more_is_false(db: sessionmaker[Session]) -> None:
    server = FakeServer()
    server.pages = {
        "": page(put(A, 1, 1), cursor="p1", more=True),
        "p1": page(put(B, 1, 2), cursor="p2", more=True),
        "p2": page(cursor="p3", checksum=checksum_of({A: (1, "100000.00"), B: (1, "100000.00")})),
    }
    report = sync(db, server)
    assert (report.ok, report.pulled, report.resyncs) == (True, 2, 0)
    assert server.pulls == ["", "p1", "p2"]
    with db() as session:
        assert sync_state(session).cursor == "p3"


def test_a_checksum_mismatch_resyncs_once_and_keeps_the_outbox(db: sessionmaker[Session]) -> None:
    with db.begin() as session:  # a stray row the server never sent (or missed a remove)
        session.add(ClientMirror(id=B, code="X", name="X", balance=Decimal(1), version=1,
                                 updated_at=MORNING))  # fmt: skip
        sync_state(session).cursor = "old"
    record_payment(db, client_id=A, amount=Decimal(5000), method="cash", now=MORNING)
    good = checksum_of({A: (1, "100000.00")})
    server = FakeServer()
    server.pages = {
        "old": page(cursor="old2", checksum=good),
        "": page(put(A, 1, 1), cursor="fresh", checksum=good),
    }
    report = sync(db, server)
    assert (report.ok, report.resyncs, report.pending_left) == (True, 1, 0)
    assert server.pulls == ["old", ""]
    with db() as session:
        assert set(session.scalars(select(ClientMirror.id))) == {A}
        assert [r.state for r in session.scalars(select(OutboxRow))] == ["acked"]


def test_a_mismatch_that_survives_a_resync_is_reported(db: sessionmaker[Session]) -> None:
    server = FakeServer()
    server.pages = {"": page(put(A, 1, 1), checksum=checksum_of({A: (2, "100000.00")}))}
    report = sync(db, server)
    assert (report.error_kind, report.resyncs) == ("checksum_mismatch", 1)
    assert server.pulls == ["", ""]


def test_resync_required_pulls_again_from_an_empty_cursor(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        sync_state(session).cursor = "expired"
    server = FakeServer(pull_faults=[Failure("resync", "cursor expired", 409, "resync_required")])
    server.pages = {"": page(put(A, 1, 1), cursor="c1")}
    report = sync(db, server)
    assert (report.ok, report.resyncs, server.pulls) == (True, 1, ["expired", ""])


def test_a_new_server_epoch_repushes_retained_rows_then_resyncs(
    db: sessionmaker[Session],
) -> None:
    visits(db, 3)
    server = FakeServer()
    server.pages = {"": page(put(A, 1, 1), status(str(uuid.uuid4()), 2), cursor="c1")}
    assert sync(db, server).ok
    # The server is restored from a backup taken before those three events.
    restored = FakeServer(epoch="epoch-2")
    restored.pages = {"": page(put(A, 1, 1), cursor="r1", epoch="epoch-2")}
    visits(db, 1)
    report = sync(db, restored)
    assert (report.ok, report.epoch_changed, report.requeued) == (True, True, 3)
    assert sorted(sent_seqs(restored)) == [1, 2, 3, 4]
    with db() as session:
        assert set(restored.recorded) == set(session.scalars(select(OutboxRow.event_id)))
    assert restored.pulls == [""]
    with db() as session:
        state = sync_state(session)
        assert (state.server_epoch, state.cursor) == ("epoch-2", "r1")
        assert session.scalars(select(EventStatus)).all() == []
    assert {state for _, state, _, _ in outbox(db)} == {"acked"}


def test_an_epoch_seen_first_on_pull_restarts_with_a_push(db: sessionmaker[Session]) -> None:
    visits(db, 2)
    assert sync(db, FakeServer()).ok
    restored = FakeServer(epoch="epoch-2")
    restored.pages = {"": page(cursor="r1", epoch="epoch-2")}
    # No pending rows: the first contact is the pull, which names the new epoch.
    report = sync(db, restored)
    assert (report.ok, report.requeued) == (True, 2)
    assert restored.pushes == [[1, 2]]
    assert restored.pulls == ["c0", ""]  # the old cursor, then from zero after the re-push


def test_a_second_caller_is_told_a_sync_is_running(db: sessionmaker[Session]) -> None:
    visits(db, 1)
    inner: list[SyncReport] = []
    server = FakeServer()
    server.on_push = lambda: inner.append(sync(db, FakeServer()))  # same thread, re-entrant
    assert sync(db, server).ok
    assert [r.error_kind for r in inner] == ["already_running"]

    visits(db, 1)
    entered, release = threading.Event(), threading.Event()
    blocking = FakeServer()

    def block() -> None:
        entered.set()
        release.wait(30)

    blocking.on_push = block
    worker = threading.Thread(target=lambda: sync(db, blocking))
    worker.start()
    assert entered.wait(30)
    other = sync(db, FakeServer())  # e.g. the UI while the background task syncs
    release.set()
    worker.join(30)
    assert other.already_running
    assert other.pending_left == 1  # the row the running sync is pushing
    assert len(blocking.pushes) == 1


def test_another_process_holding_the_file_lock_blocks_a_sync(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    with (tmp_path / "phone.db.sync-lock").open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert sync(db, FakeServer()).already_running
    assert sync(db, FakeServer()).ok


def test_a_weeks_backlog_is_under_50_kb_on_the_wire(db: sessionmaker[Session]) -> None:
    """sync-protocol.md's target (400 events <= 50 KB), measured on the bytes the real transport
    sends: 250 visits with a GPS fix and 150 payments with receipt numbers, gzip, chunks of 200."""
    rng = random.Random(4)
    clients = [str(uuid.uuid4()) for _ in range(60)]
    with db.begin() as session:
        for seq in range(1, 401):
            if seq % 8 in (1, 4, 6):
                amount = Decimal(rng.randint(10, 500) * 1000)
                payload = canonical_json(
                    PaymentCollected(amount=amount, method="cash", receipt_no=f"K7Q-{seq:06d}")
                )
                kind = "payment.collected"
            else:
                amount = None
                fix = {"lat": 4.6 + rng.random() / 10, "lon": -74.1 + rng.random() / 10}
                payload = canonical_json(
                    VisitRecorded(outcome="contacted", accuracy_m=rng.uniform(3, 30), **fix)
                )
                kind = "visit.recorded"
            when = MORNING + timedelta(minutes=7 * seq)
            session.add(
                OutboxRow(event_id=str(uuid.uuid4()), device_seq=seq, type=kind,
                          client_id=rng.choice(clients), device_time=when.isoformat(),
                          payload=payload, amount=amount)
            )  # fmt: skip
        sync_state(session).next_device_seq = 401
    sent: list[int] = []

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/pull"):
            return httpx.Response(200, json={"server_epoch": "epoch-1", "changes": [],
                                             "next_cursor": "c", "has_more": False})  # fmt: skip
        sent.append(len(request.content))
        events = json.loads(gzip.decompress(request.content))["events"]
        results = [{"event_id": e["event_id"], "status": "applied"} for e in events]
        return httpx.Response(200, json={"server_epoch": "epoch-1", "results": results})

    api = SyncClient("http://server.test", "tok", transport=httpx.MockTransport(server))
    report = sync_once(db, api, now=lambda: MORNING)
    assert (report.ok, report.acked, len(sent)) == (True, 400, 2)
    assert sum(sent) <= 50 * 1024, sent
    assert sum(sent) / 400 <= 120  # bytes per event, chunks of 50+
