"""The phone's storage fills up: a write fails with StorageFull (SQLITE_FULL from the real SQLite,
through `PRAGMA max_page_count`, the same error path as ENOSPC), its transaction rolls back whole,
nothing saved before is lost, and once space is back the same action saves and syncs once."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.engine import STORAGE_FULL_MESSAGE, StorageFull
from mobile.data.models import ClientMirror, OutboxRow
from mobile.services.device import sync_state
from mobile.services.pulling import apply_page
from mobile.services.recording import record_payment, record_promise, record_visit
from mobile.services.syncing import SyncOptions, sync_once
from server.db.models import Client, InboundEvent, LedgerEntry
from sync.protocol import PullResponse
from tests.mobile.conftest import MORNING
from tests.mobile.fake_server import FakeServer
from tests.mobile.live import enroll, mirror_view, server_view
from tests.mobile.pages import checksum_of, page, put
from tests.mobile.test_state_app import make_app
from tests.mobile.test_state_clients import add_client
from tests.mobile.test_sync_live import portfolio
from tests.server.sync_helpers import MakeUser, check_invariants

UNLIMITED = 1_073_741_823
CLIENT = str(uuid.uuid4())


class Disk:
    """The phone's free space: `fill()` stops the database file from growing on every pooled
    connection (PRAGMA max_page_count is per connection, so it is set at each checkout)."""

    def __init__(self, db: sessionmaker[Session]) -> None:
        self.engine = db.kw["bind"]
        self.cap: int | None = None
        event.listen(self.engine, "checkout", self._apply)

    def _apply(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count={self.cap or UNLIMITED}")
        cursor.close()

    def size(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        return int(pages), int(page_size)

    def fill(self) -> None:
        self.cap = self.size()[0]

    def free(self) -> None:
        self.cap = None


def integrity(path: Path) -> list[tuple[str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


def snapshot(db: sessionmaker[Session]) -> tuple[list[tuple[str, int, str, str]], int, str]:
    """The outbox (event id, device_seq, payload, state), next_device_seq and cursor."""
    with db() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.device_seq))
        outbox = [(r.event_id, r.device_seq, r.payload, r.state) for r in rows]
        state = sync_state(session)
        return outbox, state.next_device_seq, state.cursor


def mirror(db: sessionmaker[Session]) -> dict[str, int]:
    with db() as session:
        rows = session.execute(select(ClientMirror.id, ClientMirror.version))
        return {row.id: row.version for row in rows}


def sync(db: sessionmaker[Session], server: FakeServer) -> Any:
    return sync_once(db, server, now=lambda: MORNING, options=SyncOptions())


ACTIONS: dict[str, Callable[[sessionmaker[Session]], str]] = {
    "visit": lambda db: (
        record_visit(
            db, client_id=CLIENT, outcome="contacted", notes="Atendió la dueña", now=MORNING
        ).event_id
    ),
    "promise": lambda db: (
        record_promise(
            db, client_id=CLIENT, amount=Decimal("25000"), due_date=date(2026, 11, 27), now=MORNING
        ).event_id
    ),
    "payment": lambda db: (
        record_payment(
            db, client_id=CLIENT, amount=Decimal("40000"), method="cash", now=MORNING
        ).event_id
    ),
}


def record_until_full(
    db: sessionmaker[Session], action: Callable[[sessionmaker[Session]], str]
) -> tuple[list[str], StorageFull]:
    """The collector keeps working until the phone is full: the ids saved, and the error."""
    saved: list[str] = []
    for _ in range(500):
        try:
            saved.append(action(db))
        except StorageFull as exc:
            return saved, exc
    raise AssertionError("500 records fit in a full database")


@pytest.mark.parametrize("kind", sorted(ACTIONS))
def test_a_record_on_a_full_phone_rolls_back_whole_and_saves_once_space_is_back(
    tmp_path: Path, db: sessionmaker[Session], kind: str
) -> None:
    action = ACTIONS[kind]
    disk = Disk(db)
    disk.fill()
    saved, error = record_until_full(db, action)

    assert (error.code, error.message) == ("device_storage_full", STORAGE_FULL_MESSAGE)
    assert str(error) == "El teléfono no tiene espacio: libere espacio y vuelva a intentar"
    assert saved, "the full database took no record at all: the test filled nothing"
    outbox, next_seq, _ = snapshot(db)
    # Everything saved is there; the failed record left no row and took no device_seq.
    assert [row[0] for row in outbox] == saved
    assert [row[1] for row in outbox] == list(range(1, len(saved) + 1))
    assert next_seq == len(saved) + 1
    if kind == "payment":  # every receipt handed out is in its payment; none was consumed
        for event_id, seq, payload, _ in outbox:
            assert f'"receipt_no":"K7Q-{seq:06d}"' in payload, event_id
    assert integrity(tmp_path / "phone.db") == [("ok",)]

    disk.free()
    retried = action(db)  # the same record, once space is back
    outbox, next_seq, _ = snapshot(db)
    assert [row[0] for row in outbox] == [*saved, retried]
    assert outbox[-1][1] == len(saved) + 1 and next_seq == len(saved) + 2
    if kind == "payment":  # gapless: the retried payment gets the next receipt number
        assert f'"receipt_no":"K7Q-{len(saved) + 1:06d}"' in outbox[-1][2]

    server = FakeServer()
    report = sync(db, server)
    assert (report.ok, report.pending_left) == (True, 0)
    assert set(server.recorded) == {*saved, retried}
    assert sorted(seq for push in server.pushes for seq in push) == list(
        range(1, len(saved) + 2)
    )  # each event sent exactly once
    assert sync(db, server).pushed == 0
    assert integrity(tmp_path / "phone.db") == [("ok",)]


def test_a_full_disk_at_commit_rolls_back_too(
    monkeypatch: pytest.MonkeyPatch, db: sessionmaker[Session]
) -> None:
    """With WAL, a real full disk may first show at COMMIT (the WAL frames are written then);
    SQLite keeps the transaction open, and leaving `db.begin()` rolls it back. The COMMIT fails
    here as SQLite reports it (SQLITE_FULL, transaction still active)."""
    record_payment(db, client_id=CLIENT, amount=Decimal("1000"), method="cash", now=MORNING)
    dialect = db.kw["bind"].dialect

    def full_at_commit(_dbapi_connection: Any) -> None:
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
        raise error

    monkeypatch.setattr(dialect, "do_commit", full_at_commit)
    with pytest.raises(StorageFull):
        record_payment(db, client_id=CLIENT, amount=Decimal("2000"), method="cash", now=MORNING)
    monkeypatch.undo()
    outbox, next_seq, _ = snapshot(db)
    assert [row[1] for row in outbox] == [1] and next_seq == 2
    retried = record_payment(
        db, client_id=CLIENT, amount=Decimal("2000"), method="cash", now=MORNING
    )
    assert retried.receipt_no == "K7Q-000002"


def test_the_app_keeps_the_confirmed_payment_on_screen_with_a_clear_message(
    db: sessionmaker[Session],
) -> None:
    client = add_client(db, "Tienda Mía", "10000000")
    app = make_app(db)
    disk = Disk(db)
    disk.fill()
    receipts: list[str] = []
    for _ in range(500):  # one payment after another until the phone is full
        app.open_client(client)
        app.start_payment()
        app.payment.amount, app.payment.method = "1.000", "cash"
        assert app.review_payment()
        if not app.confirm_payment():
            break
        assert app.receipt is not None
        receipts.append(app.receipt.receipt_no)
    else:
        raise AssertionError("500 payments fit in a full database")

    assert receipts == [f"K7Q-{n:06d}" for n in range(1, len(receipts) + 1)]
    # Nothing saved, so no receipt: the collector is still on the confirmation, told why.
    assert app.screen == "confirm" and app.payment.draft is not None
    assert (app.message, app.message_is_error) == (STORAGE_FULL_MESSAGE, True)
    assert app.pending == len(receipts)

    disk.free()
    assert app.confirm_payment()  # the same tap, once space is back
    assert app.screen == "receipt" and app.receipt is not None
    assert app.receipt.receipt_no == f"K7Q-{len(receipts) + 1:06d}"
    assert app.pending == len(receipts) + 1


def test_the_app_keeps_the_visit_form_when_the_phone_is_full(db: sessionmaker[Session]) -> None:
    client = add_client(db, "Tienda Mía", "100000")
    app = make_app(db)
    disk = Disk(db)
    disk.fill()
    saved = 0
    for _ in range(500):
        app.open_client(client)
        app.start_visit()
        app.visit.outcome, app.visit.notes = "contacted", "Volver el viernes"
        if not app.save_visit():
            break
        saved += 1
    else:
        raise AssertionError("500 visits fit in a full database")
    assert app.screen == "visit" and app.visit.notes == "Volver el viernes"
    assert (app.message, app.message_is_error) == (STORAGE_FULL_MESSAGE, True)
    assert app.pending == saved

    disk.free()
    assert app.save_visit()
    assert app.screen == "client" and app.pending == saved + 1


def big_page(disk: Disk, cursor: str, versions: dict[str, int]) -> PullResponse:
    """A page of client puts that cannot fit: more bytes than the whole database file."""
    pages, page_size = disk.size()
    address = "Carrera 7 # 71-21, local 3, frente al parque, " * 4
    needed = pages * page_size // len(address) + 1
    clients = {str(uuid.uuid4()): 1 for _ in range(needed)} | {
        cid: v + 1 for cid, v in versions.items()
    }
    changes = [
        put(cid, v, seq, code=f"C-{seq}", address=address)
        for seq, (cid, v) in enumerate(clients.items(), start=100)
    ]
    checksum = checksum_of({cid: (v, "100000.00") for cid, v in clients.items()})
    return page(*changes, cursor=cursor, checksum=checksum)


def test_a_pull_on_a_full_phone_is_not_half_applied_and_converges_later(
    tmp_path: Path, db: sessionmaker[Session]
) -> None:
    disk = Disk(db)
    first = {str(uuid.uuid4()): 1 for _ in range(3)}
    server = FakeServer()
    server.pages = {
        "": page(
            *[put(cid, 1, seq) for seq, cid in enumerate(first, start=1)],
            cursor="c1",
            checksum=checksum_of(dict.fromkeys(first, (1, "100000.00"))),
        )
    }
    for action in ACTIONS.values():
        action(db)
    assert sync(db, server).ok
    record_payment(db, client_id=CLIENT, amount=Decimal("5000"), method="cash", now=MORNING)
    before_outbox, before_seq, before_cursor = snapshot(db)
    assert (before_cursor, mirror(db)) == ("c1", first)

    disk.fill()
    server.pages["c1"] = big_page(disk, "c2", first)
    with pytest.raises(StorageFull):
        sync(db, server)
    outbox, next_seq, cursor = snapshot(db)
    # The page is not half applied and the cursor did not move; the outbox keeps every event
    # (the last one acked or still pending, depending on whether its ack fitted).
    assert (cursor, mirror(db)) == ("c1", first)
    assert [row[:3] for row in outbox] == [row[:3] for row in before_outbox]
    assert next_seq == before_seq
    assert integrity(tmp_path / "phone.db") == [("ok",)]

    # The same page applied directly fails the same way (one transaction with its cursor).
    with pytest.raises(StorageFull):
        apply_page(db, server.pages["c1"], now=MORNING)
    assert (snapshot(db)[2], mirror(db)) == ("c1", first)

    disk.free()
    report = sync(db, server)
    assert (report.ok, report.pending_left, report.resyncs) == (True, 0, 0)
    expected = {c.id: c.version for c in server.pages["c1"].changes}
    assert (snapshot(db)[2], mirror(db)) == ("c2", expected)
    assert len(server.recorded) == len(before_outbox)  # each event recorded once
    assert integrity(tmp_path / "phone.db") == [("ok",)]


def test_payments_around_a_full_phone_reach_the_real_ledger_once(
    client: TestClient,
    session: Session,
    make_user: MakeUser,
    make_client: Callable[..., Client],
    tmp_path: Path,
) -> None:
    login = make_user("collector")
    phone = enroll(client, login, tmp_path / "phone.db")
    shop, *_ = portfolio(session, make_client, login)
    assert phone.sync().ok
    disk = Disk(phone.db)

    def pay(db: sessionmaker[Session]) -> str:
        return record_payment(
            db, client_id=shop.id, amount=Decimal("1000"), method="cash", now=datetime.now(UTC)
        ).event_id

    disk.fill()
    saved, _ = record_until_full(phone.db, pay)
    disk.free()
    retried = pay(phone.db)
    report = phone.sync()
    assert (report.ok, report.pushed, report.pending_left) == (True, len(saved) + 1, 0)

    session.expire_all()
    events = session.scalars(
        select(InboundEvent)
        .where(InboundEvent.device_id == uuid.UUID(phone.device_id))
        .order_by(InboundEvent.device_seq)
    ).all()
    assert [str(e.event_id) for e in events] == [*saved, retried]
    assert [e.device_seq for e in events] == list(range(1, len(saved) + 2))  # no receipt gap
    entries = session.scalars(
        select(LedgerEntry).where(LedgerEntry.event_id.in_([e.event_id for e in events]))
    ).all()
    assert len(entries) == len(events)  # each payment in the ledger exactly once
    found = session.get(Client, shop.id)
    assert found is not None
    assert found.balance == Decimal("100000.00") - 1000 * (len(saved) + 1)
    check_invariants(session)
    assert mirror_view(phone.db) == server_view(session, login.user.id)
    assert integrity(tmp_path / "phone.db") == [("ok",)]
