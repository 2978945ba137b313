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

# A realistic next migration: a new outbox column, which on SQLite means batch mode copies the
# whole table into a new one (the operation that could lose or alter rows).
MIGRATION_0002 = """
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
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
    db = new_device(path)  # at 0001
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
    (scripts / "versions" / "0002_outbox_note.py").write_text(MIGRATION_0002, encoding="utf-8")
    upgrade(path, script_location=scripts)

    assert dump(path, columns) == before
    assert dump(path, "note") == [(None,)] * 3
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0002",)]
        assert conn.execute("SELECT next_device_seq FROM sync_state").fetchall() == [(4,)]
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
