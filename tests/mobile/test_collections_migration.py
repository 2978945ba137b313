"""Local migration 0005 (issue 7) on a phone with unsent work: the outbox and sync_state come
through byte for byte, the mirrored client gains empty agreements/disputes and legal = false,
`cash_handover` starts empty, and the app then works on the upgraded database: the unsent
payment is cash in hand, the next pull fills the new columns, and everything syncs once."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from mobile.data.engine import make_engine, make_session_factory
from mobile.data.migrate import check, upgrade
from mobile.services.cash import load_cash_in_hand
from mobile.services.portfolio import load_clients
from mobile.services.syncing import SyncOptions, sync_once
from tests.mobile.conftest import MORNING
from tests.mobile.fake_server import FakeServer
from tests.mobile.pages import page, put
from tests.mobile.test_migrations import dump

CLIENT = "5f0e3c1a-1111-4b7e-9a57-2f8a3f0d6a11"
VISIT = '{"notes":"Ñandú","outcome":"contacted"}'
PROMISE = '{"amount":"9.00","due_date":"2026-11-30"}'
PAYMENT = '{"amount":"5000.00","method":"cash","receipt_no":"K7Q-000003"}'


def test_0005_keeps_unsent_events_and_the_app_works_on_the_upgraded_phone(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    upgrade(path, "0004")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO sync_state (id, device_id, device_code, device_token, server_url, "
            "username, full_name, next_device_seq, cursor, server_epoch) VALUES "
            "(1, 'd', 'K7Q', 't', 'http://x', 'u', 'Ana Ruiz', 4, 'c0', 'epoch-1')"
        )
        conn.executemany(
            "INSERT INTO outbox (event_id, device_seq, type, type_version, client_id, "
            "device_time, payload, amount, state, attempts, acked_at, server_seq, last_error) "
            "VALUES (?, ?, ?, 1, ?, '2026-11-23T10:21:07-05:00', ?, ?, ?, ?, ?, ?, ?)",
            [
                (str(uuid.uuid4()), 1, "visit.recorded", CLIENT, VISIT,
                 None, "acked", 1, "2026-11-23T15:21:07.000000Z", 41, None),
                (str(uuid.uuid4()), 2, "promise.made", CLIENT, PROMISE,
                 900, "pending", 3, None, None, "timeout"),
                (str(uuid.uuid4()), 3, "payment.collected", CLIENT, PAYMENT, 500000, "pending",
                 0, None, None, None),
            ],
        )  # fmt: skip
        conn.execute(
            "INSERT INTO client (id, code, name, segment, address, city, status, phones, "
            "channels, balance, version, change_seq, open_invoices, promises, visits, "
            "updated_at) VALUES (?, 'C-1', 'Tienda', '', '', '', 'active', '[]', '[]', "
            "10000000, 3, 7, '[]', '[]', '[]', '2026-11-23T15:00:00.000000Z')",
            (CLIENT,),
        )
        state_before = conn.execute("SELECT * FROM sync_state").fetchall()
    before = dump(path, "*")

    upgrade(path)

    assert dump(path, "*") == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM sync_state").fetchall() == state_before
        row = conn.execute("SELECT agreements, disputes, legal, balance FROM client").fetchone()
        assert row == ("[]", "[]", 0, 10000000)
        assert conn.execute("SELECT count(*) FROM cash_handover").fetchall() == [(0,)]
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0005",)]
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    check(path)

    db = make_session_factory(make_engine(path))
    (record,) = load_clients(db)
    assert (record.agreements, record.disputes, record.legal) == ((), (), False)
    assert [p.receipt_no for p in load_cash_in_hand(db)] == ["K7Q-000003"]

    server = FakeServer()
    agreement = {"id": str(uuid.uuid4()), "standing": "on_track", "total": "9.00",
                 "installments": [{"due_date": "2026-11-30", "amount": "9.00"}]}  # fmt: skip
    server.pages["c0"] = page(put(CLIENT, 4, 50, legal=True, agreements=[agreement]), cursor="c1")
    report = sync_once(db, server, now=lambda: MORNING, options=SyncOptions())
    assert report.ok and server.pushes == [[2, 3]]  # the two unsent events, once
    (record,) = load_clients(db)
    assert record.legal and [a.standing for a in record.agreements] == ["on_track"]
