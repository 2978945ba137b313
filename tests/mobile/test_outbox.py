from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import OutboxRow, SyncState
from mobile.services.device import reset_device
from mobile.services.exporting import export_pending, push_bodies
from mobile.services.outbox import apply_push_results, purge_acked
from mobile.services.recording import record_payment, record_promise, record_visit
from shared.errors import Conflict
from sync.protocol import PaymentCollectedEvent, PushRequest, PushResult
from tests.mobile.conftest import DEVICE_ID, MORNING

CLIENT = "5f0e3c1a-1111-4b7e-9a57-2f8a3f0d6a11"


def set_state(db: sessionmaker[Session], seq: int, state: str, acked_days_ago: int) -> None:
    with db.begin() as session:
        row = session.scalar(select(OutboxRow).where(OutboxRow.device_seq == seq))
        assert row is not None
        row.state, row.acked_at = state, MORNING - timedelta(days=acked_days_ago)


def seqs(db: sessionmaker[Session]) -> list[int]:
    with db() as session:
        return list(session.scalars(select(OutboxRow.device_seq).order_by(OutboxRow.device_seq)))


def test_purge_keeps_30_days_of_acked_rows_and_never_touches_the_rest(
    db: sessionmaker[Session],
) -> None:
    for _ in range(6):
        record_visit(db, client_id=CLIENT, outcome="contacted", now=MORNING)
    set_state(db, 1, "acked", 31)  # purged
    set_state(db, 2, "acked", 29)  # kept: inside the window (re-push after an epoch change)
    set_state(db, 3, "held", 90)
    set_state(db, 4, "conflict", 90)
    # 5 and 6 stay pending
    assert purge_acked(db, now=MORNING) == 1
    assert seqs(db) == [2, 3, 4, 5, 6]
    assert purge_acked(db, now=MORNING + timedelta(days=2)) == 1
    assert seqs(db) == [3, 4, 5, 6]


def test_reset_is_refused_while_rows_are_pending(db: sessionmaker[Session]) -> None:
    record_visit(db, client_id=CLIENT, outcome="contacted", now=MORNING)
    record_visit(db, client_id=CLIENT, outcome="contacted", now=MORNING)
    with pytest.raises(Conflict) as exc:
        reset_device(db)
    assert (exc.value.code, exc.value.details) == ("outbox_not_empty", {"pending": 2})
    assert seqs(db) == [1, 2]
    set_state(db, 1, "acked", 0)
    set_state(db, 2, "held", 0)
    reset_device(db)
    with db() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 0
        assert session.get(SyncState, 1) is None


def test_push_bodies_chunk_pending_rows_in_seq_order(db: sessionmaker[Session]) -> None:
    for n in range(5):
        record_payment(db, client_id=CLIENT, amount=Decimal(1000 + n), method="cash", now=MORNING)
    set_state(db, 2, "acked", 0)
    bodies = push_bodies(db(), app_version="1.0.0", chunk=2)
    assert [[e["device_seq"] for e in b["events"]] for b in bodies] == [[1, 3], [4, 5]]
    requests = [PushRequest.model_validate(b) for b in bodies]
    first = requests[0].events[0]
    assert isinstance(first, PaymentCollectedEvent)
    assert (first.payload.amount, first.payload.receipt_no) == (Decimal("1000.00"), "K7Q-000001")
    assert str(requests[0].device_id) == DEVICE_ID


def test_export_writes_pending_events_the_server_accepts(
    db: sessionmaker[Session], tmp_path: Path
) -> None:
    visit = record_visit(db, client_id=CLIENT, outcome="payment", now=MORNING)
    pay = record_payment(
        db, client_id=CLIENT, amount=Decimal("250000"), method="cash", now=MORNING,
        visit_event_id=visit.event_id,
    )  # fmt: skip
    record_promise(db, client_id=CLIENT, amount=Decimal(5), due_date=MORNING.date(), now=MORNING)
    set_state(db, 3, "acked", 0)  # already on the server: not exported
    target = tmp_path / "export.json"
    assert export_pending(db, target, app_version="1.0.0") == 2

    bodies = json.loads(target.read_text(encoding="utf-8"))
    assert len(bodies) == 1
    (request,) = [PushRequest.model_validate(b) for b in bodies]
    assert [str(e.event_id) for e in request.events] == [visit.event_id, pay.event_id]
    assert bodies[0]["events"][1] == {
        "event_id": pay.event_id,
        "device_seq": 2,
        "type": "payment.collected",
        "type_version": 1,
        "client_id": CLIENT,
        "device_time": "2026-11-23T10:21:07-05:00",
        "payload": {
            "amount": "250000.00", "method": "cash", "receipt_no": "K7Q-000002",
            "visit_event_id": visit.event_id,
        },
    }  # fmt: skip
    assert seqs(db) == [1, 2, 3]  # exporting does not acknowledge anything
    assert not (tmp_path / "export.json.tmp").exists()


def test_push_results_mark_rows(db: sessionmaker[Session]) -> None:
    ids = [
        record_visit(db, client_id=CLIENT, outcome="contacted", now=MORNING).event_id
        for _ in range(5)
    ]
    statuses = [("applied", 10, None), ("duplicate", 7, None), ("held", None, "client_closed"),
                ("conflict", None, "same_event_id_different_content"),
                ("duplicate", 9, "client_closed")]  # fmt: skip
    apply_push_results(
        db,
        [
            PushResult(event_id=i, status=s, server_seq=q, reason=r)
            for i, (s, q, r) in zip(ids, statuses, strict=True)
        ],  # type: ignore[arg-type]
        now=MORNING,
    )
    with db() as session:
        got = [
            (r.state, r.server_seq, r.status_reason)
            for r in session.scalars(select(OutboxRow).order_by(OutboxRow.device_seq))
        ]
    assert got == [("acked", 10, None), ("acked", 7, None), ("held", None, "client_closed"),
                   ("conflict", None, "same_event_id_different_content"),
                   ("held", 9, "client_closed")]  # a held event's retry: still held  # fmt: skip
