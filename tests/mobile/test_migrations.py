"""Local migrations must preserve the outbox (sync-protocol.md, invariant 7)."""

from __future__ import annotations

import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

from mobile.data.migrate import MIGRATIONS, check, upgrade
from mobile.services.recording import record_payment, record_visit, void_payment
from tests.mobile.conftest import MORNING, new_device

CLIENT = "5f0e3c1a-1111-4b7e-9a57-2f8a3f0d6a11"

HEAD = "0005"

# A realistic next migration: a new outbox column, which on SQLite means batch mode copies the
# whole table into a new one (the operation that could lose or alter rows).
MIGRATION_NEXT = """
from alembic import op
import sqlalchemy as sa

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", recreate="always") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("note")
"""


def dump(path: Path, columns: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT {columns} FROM outbox ORDER BY device_seq").fetchall()


def test_models_match_the_migrations(tmp_path: Path) -> None:
    upgrade(tmp_path / "phone.db")
    check(tmp_path / "phone.db")  # raises if a model change has no migration


def test_an_upgrade_keeps_every_pending_row_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    db = new_device(path)  # at head
    record_visit(db, client_id=CLIENT, outcome="payment", now=MORNING, notes="señora Inés")
    pay = record_payment(
        db, client_id=CLIENT, amount=Decimal("1234.56"), method="cash", now=MORNING
    )
    void_payment(db, payment_event_id=pay.event_id, reason="billete roto", now=MORNING)
    db.kw["bind"].dispose()
    columns = "event_id, device_seq, type, type_version, client_id, device_time, payload, "
    columns += "amount, ref_event_id, state, attempts, last_error, acked_at, server_seq"
    before = dump(path, columns)
    assert len(before) == 3

    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9001_outbox_note.py").write_text(
        MIGRATION_NEXT.replace("{head}", HEAD), encoding="utf-8"
    )
    upgrade(path, script_location=scripts)

    assert dump(path, columns) == before
    assert dump(path, "note") == [(None,)] * 3
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("9001",)]
        assert conn.execute("SELECT next_device_seq FROM sync_state").fetchall() == [(4,)]
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_0002_adds_client_fields_and_keeps_the_outbox(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    upgrade(path, "0001")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO sync_state (id, device_id, device_code, device_token, server_url, "
            "username, next_device_seq, cursor, server_epoch) "
            "VALUES (1, 'd', 'K7Q', 't', 'http://x', 'u', 3, 'c1', 'e1')"
        )
        conn.execute(
            "INSERT INTO outbox (event_id, device_seq, type, type_version, client_id, "
            "device_time, payload, amount, state, attempts) VALUES "
            "('e-1', 1, 'payment.collected', 1, ?, '2026-11-23T10:21:07-05:00', "
            "'{\"amount\":\"5.00\"}', 500, 'pending', 2)",
            (CLIENT,),
        )
        conn.execute(
            "INSERT INTO client (id, code, name, segment, address, phones, channels, balance, "
            "version, change_seq, open_invoices, updated_at) VALUES (?, 'C1', 'Tienda', '', '', "
            "'[]', '[]', 100000, 3, 7, '[]', '2026-11-23T15:00:00.000000Z')",
            (CLIENT,),
        )
    columns = "event_id, device_seq, type, device_time, payload, amount, state, attempts"
    before = dump(path, columns)
    upgrade(path)
    assert dump(path, columns) == before
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT city, status, promises, visits, balance FROM client").fetchone()
        assert row == ("", "active", "[]", "[]", 100000)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    check(path)


def test_0003_and_0004_add_columns_and_keep_the_outbox_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "phone.db"
    upgrade(path, "0002")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO sync_state (id, device_id, device_code, device_token, server_url, "
            "username, next_device_seq, cursor, server_epoch, last_sync_at) VALUES "
            "(1, 'd', 'K7Q', 't', 'http://x', 'u', 3, 'c1', 'e1', '2026-11-23T15:00:00.000000Z')"
        )
        conn.executemany(
            "INSERT INTO outbox (event_id, device_seq, type, type_version, client_id, "
            "device_time, payload, amount, state, attempts, acked_at, server_seq) VALUES "
            "(?, ?, 'payment.collected', 1, ?, '2026-11-23T10:21:07-05:00', ?, 500, ?, 2, ?, ?)",
            [
                (
                    "e-1",
                    1,
                    CLIENT,
                    '{"amount":"5.00","nota":"Ñandú"}',
                    "acked",
                    "2026-11-23T15:21:07.000000Z",
                    41,
                ),
                ("e-2", 2, CLIENT, '{"amount":"5.00"}', "pending", None, None),
            ],
        )
    before = dump(path, "*")
    with sqlite3.connect(path) as conn:
        state_before = conn.execute("SELECT * FROM sync_state").fetchall()
    upgrade(path, "0003")
    assert dump(path, "*") == before
    with sqlite3.connect(path) as conn:
        state = conn.execute("SELECT * FROM sync_state").fetchall()
        assert [row[:-1] for row in state] == state_before  # server_time is the new last column
        assert conn.execute("SELECT server_time FROM sync_state").fetchall() == [(None,)]
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    state_0003 = state

    # 0004: full_name (empty until /v1/me answers) and an empty route_plan table.
    upgrade(path)
    assert dump(path, "*") == before
    with sqlite3.connect(path) as conn:
        state = conn.execute("SELECT * FROM sync_state").fetchall()
        assert [row[:-1] for row in state] == state_0003  # full_name is the new last column
        assert conn.execute("SELECT full_name FROM sync_state").fetchall() == [("",)]
        assert conn.execute("SELECT count(*) FROM route_plan").fetchall() == [(0,)]
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    check(path)
