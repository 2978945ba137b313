"""The phone's sync loop against the REAL FastAPI app (in-process, SQLite and PostgreSQL):
first sync, offline work, two phones, reassignment, resync, epoch change, and the failures the
transport maps (401, 426, 409, 503, lost answers)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import ClientMirror, OutboxRow
from mobile.services.background import sync_until_quiet
from mobile.services.balances import visible_balance, visible_balances
from mobile.services.device import sync_state
from mobile.services.recording import record_payment, record_promise, record_visit
from server.db.models import Client, InboundEvent, LedgerEntry
from server.services.devices import rotate_server_epoch
from tests.mobile.live import LivePhone, enroll, lose_response, mirror_view, server_view, status
from tests.mobile.test_syncing import visits
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import MakeUser, check_invariants, invoice

D = Decimal


@pytest.fixture
def collector(make_user: MakeUser) -> Login:
    return make_user("collector")


@pytest.fixture
def phone(client: TestClient, collector: Login, tmp_path: Path) -> LivePhone:
    return enroll(client, collector, tmp_path / "phone-a.db")


def portfolio(session: Session, make_client, login: Login, n: int = 3) -> list[Client]:  # type: ignore[no-untyped-def]
    clients = [make_client(collector=login.user, name=f"Tienda {i}") for i in range(n)]
    for c in clients:
        invoice(session, c, f"F-{uuid.uuid4().hex[:8]}", date(2026, 9, 30), "100000.00")
    return clients


def pay(phone: LivePhone, c: Client, amount: str) -> str:
    return record_payment(
        phone.db, client_id=c.id, amount=D(amount), method="cash", now=_now()
    ).event_id


def _now() -> datetime:
    return datetime.now(UTC)


def outbox(db: sessionmaker[Session]) -> list[tuple[str, str, str, int]]:
    with db() as s:
        rows = s.scalars(select(OutboxRow).order_by(OutboxRow.device_seq))
        return [(r.event_id, r.payload, r.state, r.attempts) for r in rows]


def balance(session: Session, c: Client) -> Decimal:
    session.expire_all()
    found = session.get(Client, c.id)
    assert found is not None
    return found.balance


def test_first_sync_mirrors_exactly_the_collectors_scope(
    client: TestClient, session: Session, phone: LivePhone, make_user: MakeUser, make_client
) -> None:
    mine = portfolio(session, make_client, phone.login)
    make_client(collector=make_user("collector").user, name="Ajena")
    report = phone.sync()
    assert (report.ok, report.pulled, report.pending_left) == (True, 3, 0), report
    assert report.last_success_at is not None
    assert mirror_view(phone.db) == server_view(session, phone.login.user.id)
    with phone.db() as s:
        assert visible_balances(s) == {str(c.id): D("100000.00") for c in mine}
        assert sync_state(s).cursor != ""
    assert phone.net.log == ["GET /v1/sync/pull"]  # nothing to push, one page


def test_work_recorded_offline_reaches_the_ledger_once(
    session: Session, phone: LivePhone, make_client
) -> None:
    c0, *_ = portfolio(session, make_client, phone.login)
    assert phone.sync().ok
    record_visit(phone.db, client_id=c0.id, outcome="payment", now=_now())
    pay(phone, c0, "30000")
    record_promise(
        phone.db, client_id=c0.id, amount=D(20000), due_date=date(2026, 12, 15), now=_now()
    )
    with phone.db() as s:
        assert visible_balance(s, str(c0.id)) == D("70000.00")  # before any signal
    report = phone.sync()
    assert (report.ok, report.pushed, report.acked, report.pending_left) == (True, 3, 3, 0)
    assert balance(session, c0) == D("70000.00")
    check_invariants(session)
    assert mirror_view(phone.db) == server_view(session, phone.login.user.id)
    with phone.db() as s:
        assert visible_balance(s, str(c0.id)) == D("70000.00")  # reflected once, not twice
        assert {r.state for r in s.scalars(select(OutboxRow))} == {"acked"}


def test_two_phones_of_one_collector_converge(
    client: TestClient, session: Session, phone: LivePhone, make_client, tmp_path: Path
) -> None:
    other = enroll(client, phone.login, tmp_path / "phone-b.db")
    c0, *_ = portfolio(session, make_client, phone.login)
    assert phone.sync().ok and other.sync().ok
    pay(phone, c0, "10000")
    pay(other, c0, "20000")
    assert phone.sync().ok and other.sync().ok and phone.sync().ok
    assert balance(session, c0) == D("70000.00")
    scope = server_view(session, phone.login.user.id)
    assert mirror_view(phone.db) == mirror_view(other.db) == scope
    for p in (phone, other):
        with p.db() as s:
            assert visible_balance(s, str(c0.id)) == D("70000.00")
    check_invariants(session)
    assert phone.device_code != other.device_code  # receipt numbers never collide


def test_reassignment_removes_the_client_and_keeps_the_money(
    client: TestClient, session: Session, phone: LivePhone, make_user: MakeUser, make_client,
    tmp_path: Path,
) -> None:  # fmt: skip
    c0, c1, c2 = portfolio(session, make_client, phone.login)
    new_owner = make_user("collector")
    other = enroll(client, new_owner, tmp_path / "phone-b.db")
    assert phone.sync().ok and other.sync().ok
    pay(phone, c0, "5000")  # collected before the phone hears of the reassignment
    office = make_user("supervisor")
    r = client.put(
        f"/v1/clients/{c0.id}/assignment",
        json={"collector": new_owner.user.username},
        headers=office.headers,
    )
    assert r.status_code == 200, r.text
    report = phone.sync()
    assert report.ok and report.pending_left == 0
    assert report.acked + report.held == 1
    with phone.db() as s:
        assert set(s.scalars(select(ClientMirror.id))) == {str(c1.id), str(c2.id)}
    assert other.sync().ok
    with other.db() as s:
        assert set(s.scalars(select(ClientMirror.id))) == {str(c0.id)}
    assert mirror_view(phone.db) == server_view(session, phone.login.user.id)
    assert mirror_view(other.db) == server_view(session, new_owner.user.id)
    check_invariants(session)


def test_checksum_mismatch_resyncs_and_keeps_the_outbox(
    session: Session, phone: LivePhone, make_client
) -> None:
    c0, c1, c2 = portfolio(session, make_client, phone.login)
    assert phone.sync().ok
    pay(phone, c0, "1000")
    with phone.db.begin() as s:  # the mirror drifted (a bug, a bad restore of the phone)
        drifted = s.get(ClientMirror, str(c1.id))
        assert drifted is not None
        drifted.version = 99
        gone = s.get(ClientMirror, str(c2.id))
        s.delete(gone)
    pay(phone, c1, "2000")
    before = [(eid, payload) for eid, payload, _, _ in outbox(phone.db)]
    report = phone.sync()
    assert (report.ok, report.resyncs, report.acked) == (True, 1, 2), report
    assert [(eid, payload) for eid, payload, _, _ in outbox(phone.db)] == before
    assert mirror_view(phone.db) == server_view(session, phone.login.user.id)
    with phone.db() as s:
        assert visible_balance(s, str(c1.id)) == D("98000.00")


def test_new_server_epoch_repushes_retained_rows_and_resyncs(
    session: Session, phone: LivePhone, make_client, clock: FakeClock
) -> None:
    c0, *_ = portfolio(session, make_client, phone.login)
    pay(phone, c0, "1000")
    pay(phone, c0, "2000")
    assert phone.sync().ok
    clock.advance(1)
    epoch = rotate_server_epoch(session, now=clock.now + timedelta(seconds=1), reason="restored")
    session.commit()
    pay(phone, c0, "3000")
    report = phone.sync()
    assert (report.ok, report.epoch_changed, report.requeued) == (True, True, 2), report
    assert report.pending_left == 0 and report.acked == 3  # two duplicates and the new one
    with phone.db() as s:
        assert sync_state(s).server_epoch == epoch
        assert {r.state for r in s.scalars(select(OutboxRow))} == {"acked"}
    assert balance(session, c0) == D("94000.00")
    check_invariants(session)
    assert mirror_view(phone.db) == server_view(session, phone.login.user.id)


def test_409_resync_required_when_nothing_is_pending(
    session: Session, phone: LivePhone, make_client, clock: FakeClock
) -> None:
    c0, *_ = portfolio(session, make_client, phone.login)
    pay(phone, c0, "1000")
    assert phone.sync().ok
    clock.advance(1)
    rotate_server_epoch(session, now=clock.now + timedelta(seconds=1), reason="restored")
    session.commit()
    phone.net.log.clear()
    report = phone.sync()
    assert (report.ok, report.resyncs, report.requeued) == (True, 1, 1), report
    # 409 on the old cursor, a page naming the new epoch, the re-push, then the scope again.
    assert phone.net.log == [
        "GET /v1/sync/pull", "GET /v1/sync/pull", "POST /v1/sync/push", "GET /v1/sync/pull"
    ]  # fmt: skip
    assert mirror_view(phone.db) == server_view(session, phone.login.user.id)
    check_invariants(session)


def test_a_revoked_device_stops_syncing_and_keeps_its_rows(
    client: TestClient, session: Session, phone: LivePhone, make_user: MakeUser, make_client
) -> None:
    c0, *_ = portfolio(session, make_client, phone.login)
    pay(phone, c0, "1000")
    admin = make_user("admin")
    r = client.post(f"/v1/devices/{phone.device_id}/revoke", headers=admin.headers)
    assert r.status_code == 200, r.text
    slept: list[float] = []
    report = sync_until_quiet(phone.sync, sleep=slept.append)
    assert (report.error_kind, report.http_status, report.pending_left) == ("revoked", 401, 1)
    assert slept == []  # retrying cannot fix it
    ((_, _, state, attempts),) = outbox(phone.db)
    assert (state, attempts) == ("pending", 1)  # kept for the export (tests/mobile/test_wiping)


def test_426_keeps_the_outbox_until_the_app_is_upgraded(
    session: Session, phone: LivePhone, make_client
) -> None:
    c0, *_ = portfolio(session, make_client, phone.login)
    pay(phone, c0, "1000")
    with phone.db.begin() as s:  # an event version this server does not know yet
        row = s.scalars(select(OutboxRow)).one()
        row.type_version = 2
    report = phone.sync()
    assert (report.error_kind, report.http_status, report.pending_left) == ("upgrade", 426, 1)
    with phone.db() as s:
        assert "426" in (s.scalars(select(OutboxRow.last_error)).one() or "")


def test_503_backs_off_then_converges(session: Session, phone: LivePhone, make_client) -> None:
    c0, *_ = portfolio(session, make_client, phone.login)
    pay(phone, c0, "1000")
    phone.net.plan = [status(503, "unavailable", retry_after="3"), status(502, "bad_gateway")]
    slept: list[float] = []
    report = sync_until_quiet(phone.sync, rng=random.Random(5), sleep=slept.append)
    assert (report.ok, report.pending_left) == (True, 0)
    assert len(slept) == 2 and slept[0] >= 3.0
    assert [attempts for *_, attempts in outbox(phone.db)] == [3]
    assert balance(session, c0) == D("99000.00")


def test_a_lost_answer_is_resent_and_answered_duplicate(
    session: Session, phone: LivePhone, make_client
) -> None:
    c0, *_ = portfolio(session, make_client, phone.login)
    pay(phone, c0, "1000")
    phone.net.plan = [lose_response]
    first = phone.sync()
    assert (first.error_kind, first.pending_left) == ("retryable", 1)
    second = phone.sync()
    assert (second.ok, second.acked, second.pending_left) == (True, 1, 0)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.source == "sync")) == 1  # fmt: skip
    check_invariants(session)


def test_a_week_of_backlog_goes_in_chunks_of_200(
    session: Session, phone: LivePhone, make_client
) -> None:
    c0, *_ = portfolio(session, make_client, phone.login, n=1)
    visits(phone.db, 450, client_id=str(c0.id))
    report = phone.sync()
    assert (report.ok, report.acked, report.pending_left) == (True, 450, 0)
    assert phone.net.log.count("POST /v1/sync/push") == 3
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(InboundEvent)) == 450
