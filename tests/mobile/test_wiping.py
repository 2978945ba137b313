"""A lost phone: the server revokes its device, the app stops syncing and wipes its data, but
only once nothing is left unsent (synced, or exported to a file). Against the REAL FastAPI app
(SQLite and PostgreSQL) through the phone's own HTTP client, and without Flet."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from mobile.adapters.prefs import FILE as PREFS
from mobile.adapters.prefs import save_lang
from mobile.data.models import ClientMirror, OutboxRow, SyncState
from mobile.net.client import failure_for
from mobile.services.device import register_device
from mobile.services.recording import record_payment, record_visit
from mobile.services.syncing import SyncReport, sync_once
from mobile.services.wiping import (
    PREFS_FILE,
    erase_files,
    export_and_wipe,
    is_revoked,
    wipe_if_clear,
)
from mobile.state.app import AppState, Enrollment, SyncPhase, SyncResult
from server.db.models import Client
from tests.mobile.conftest import MORNING, blank_database
from tests.mobile.live import LivePhone, enroll
from tests.server.conftest import Login
from tests.server.sync_helpers import MakeUser, invoice

NEW_DB = {"recaudo-phone.db", "recaudo-phone.db-wal", "recaudo-phone.db-shm"}
WIPED_ES = "Este teléfono fue desactivado por la empresa. Se borraron sus datos"


class NoEnroller:
    def enroll(
        self, server_url: str, username: str, password: str, *, device_name: str, nonce: str
    ) -> Enrollment:
        raise AssertionError("not called in these tests")


def runner(phone: LivePhone) -> Callable[[Callable[[SyncPhase, int], None]], SyncResult]:
    """What mobile.main's syncer does, without Flet: one cycle, its problem for the screen."""

    def run(_progress: Callable[[SyncPhase, int], None]) -> SyncResult:
        report: SyncReport = sync_once(phone.db, phone.api)
        problem = "revoked" if report.error_kind == "revoked" else ("" if report.ok else "other")
        return SyncResult(ok=report.ok, sent=report.pushed, problem=problem)  # type: ignore[arg-type]

    return run


def app_for(phone: LivePhone, tmp_path: Path) -> AppState:
    app = AppState(
        db=phone.db,
        clock=lambda: MORNING,
        enroller=NoEnroller(),
        syncer=runner(phone),
        export_dir=tmp_path / "exportados",
    )
    app.start()
    return app


@pytest.fixture
def collector(make_user: MakeUser) -> Login:
    return make_user("collector")


@pytest.fixture
def phone(client: TestClient, collector: Login, tmp_path: Path) -> LivePhone:
    return enroll(client, collector, tmp_path / "recaudo-phone.db")


@pytest.fixture
def shop(session: Session, make_client, collector: Login) -> Client:  # type: ignore[no-untyped-def]
    c: Client = make_client(collector=collector.user, name="Tienda La 14")
    invoice(session, c, f"F-{uuid.uuid4().hex[:8]}", date(2026, 9, 30), "100000.00")
    return c


def revoke(client: TestClient, make_user: MakeUser, phone: LivePhone) -> None:
    admin = make_user("admin")
    answer = client.post(f"/v1/devices/{phone.device_id}/revoke", headers=admin.headers)
    assert answer.status_code == 200, answer.text


def pay(phone: LivePhone, shop: Client, amount: str = "25000") -> str:
    return record_payment(
        phone.db, client_id=shop.id, amount=Decimal(amount), method="cash", now=datetime.now(UTC)
    ).event_id


def counts(db: sessionmaker[Session]) -> tuple[int, int, int]:
    with db() as s:
        return (
            s.scalar(select(func.count()).select_from(OutboxRow)) or 0,
            s.scalar(select(func.count()).select_from(ClientMirror)) or 0,
            s.scalar(select(func.count()).select_from(SyncState)) or 0,
        )


def register(db: sessionmaker[Session]) -> None:
    register_device(
        db,
        device_id=str(uuid.uuid4()),
        device_code="K7Q",
        device_token="rdt_secret",
        server_url="http://127.0.0.1:9",
        server_epoch="epoch-1",
    )


def screen(app: AppState) -> str:
    return app.screen  # read afresh: an action changes it (mypy keeps an earlier narrowing)


def db_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("recaudo-phone.db"))


# --- what the server answers, as the phone reads it ---------------------------------------------


def test_401_device_revoked_is_its_own_outcome_other_401s_still_ask_for_a_login() -> None:
    def body(code: str) -> bytes:
        return json.dumps({"error": {"code": code, "message": "x"}}).encode()

    now = datetime.now(UTC)
    assert failure_for(401, {}, body("device_revoked"), now).kind == "revoked"
    assert failure_for(401, {}, body("invalid_token"), now).kind == "reauth"
    assert failure_for(401, {}, body("user_disabled"), now).kind == "reauth"
    assert failure_for(403, {}, body("device_revoked"), now).kind == "reauth"


# --- revoked with nothing unsent: wiped at once ----------------------------------------------


def test_revoked_with_everything_synced_is_wiped_and_back_at_first_run(
    client: TestClient, make_user: MakeUser, phone: LivePhone, shop: Client, tmp_path: Path
) -> None:
    pay(phone, shop)
    assert sync_once(phone.db, phone.api).ok  # the payment is acked, the mirror holds the shop
    save_lang(tmp_path, "en")
    app = app_for(phone, tmp_path)
    app.lang = "es"
    assert app.screen == "today" and counts(phone.db) == (1, 1, 1)
    revoke(client, make_user, phone)

    app.sync()

    assert screen(app) == "setup" and app.info is None and not app.revoked
    assert app.message.startswith(WIPED_ES) and not app.message_is_error
    assert counts(phone.db) == (0, 0, 0)  # an empty database at head, ready for a new setup
    assert not (tmp_path / PREFS).exists()
    assert not is_revoked(phone.db)  # the mark went with the data: a new setup syncs again
    assert set(db_files(tmp_path)) <= NEW_DB  # the new, empty one (reopened in WAL mode)


# --- revoked with events unsent: kept, exported, then wiped ----------------------------------


def test_revoked_with_pending_keeps_everything_until_exported_then_wipes(
    client: TestClient, make_user: MakeUser, phone: LivePhone, shop: Client, tmp_path: Path
) -> None:
    assert sync_once(phone.db, phone.api).ok
    first = pay(phone, shop, "25000")
    second = record_visit(phone.db, client_id=shop.id, outcome="contacted", now=datetime.now(UTC))
    revoke(client, make_user, phone)
    app = app_for(phone, tmp_path)

    app.sync()  # the push is refused: device_revoked
    assert app.revoked and app.screen == "sync" and app.message_is_error
    assert app.message.startswith("Este teléfono fue desactivado por la empresa y tiene 2")
    assert counts(phone.db) == (2, 1, 1)  # nothing deleted
    assert is_revoked(phone.db)

    # No more sync attempts: another tap, a background cycle, a restart send nothing.
    sent = len(phone.net.log)
    app.sync()
    assert sync_once(phone.db, phone.api).error_kind == "revoked"
    reopened = app_for(phone, tmp_path)
    assert reopened.revoked and reopened.screen == "sync"
    assert len(phone.net.log) == sent
    assert counts(phone.db) == (2, 1, 1)

    path = reopened.export_path()
    assert reopened.export_and_wipe(path) == 2

    exported = json.loads(path.read_text(encoding="utf-8"))
    assert [e["event_id"] for body in exported for e in body["events"]] == [
        first,
        second.event_id,
    ]
    assert exported[0]["device_id"] == phone.device_id
    assert screen(reopened) == "setup" and reopened.info is None
    assert reopened.message.startswith("Se exportaron 2 registros a recaudo-pendientes-")
    assert counts(phone.db) == (0, 0, 0)
    assert set(db_files(tmp_path)) <= NEW_DB  # the new, empty one (reopened in WAL mode)
    assert path.exists()  # the only copy of those events: never wiped


def test_a_failed_export_wipes_nothing(
    client: TestClient, make_user: MakeUser, phone: LivePhone, shop: Client, tmp_path: Path
) -> None:
    pay(phone, shop)
    revoke(client, make_user, phone)
    app = app_for(phone, tmp_path)
    app.sync()
    blocker = tmp_path / "a-folder"
    blocker.mkdir()  # writing the export over a directory fails

    assert app.export_and_wipe(blocker) is None

    assert app.revoked and app.message.startswith("No se pudo exportar")
    assert counts(phone.db) == (1, 0, 1)
    assert is_revoked(phone.db)


# --- the wipe itself ----------------------------------------------------------------------------


def test_erase_leaves_no_database_file_behind_even_with_an_open_wal(tmp_path: Path) -> None:
    db = blank_database(tmp_path / "recaudo-phone.db")
    register(db)  # a write through a pooled connection: the WAL and SHM exist now
    assert {"recaudo-phone.db-wal", "recaudo-phone.db-shm"} <= set(db_files(tmp_path))
    save_lang(tmp_path, "es")
    other = tmp_path / "exportados"
    other.mkdir()
    # Another connection (a background sync's) still holds the database: its close does not
    # checkpoint the WAL away before the wipe, so the WAL and SHM must be deleted by name.
    holder = sqlite3.connect(tmp_path / "recaudo-phone.db")
    holder.execute("SELECT count(*) FROM sync_state").fetchone()
    try:
        deleted = erase_files(db)
    finally:
        holder.close()

    assert db_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exportados"]
    assert {p.name for p in deleted} == {
        "recaudo-phone.db",
        "recaudo-phone.db-wal",
        "recaudo-phone.db-shm",
        PREFS,
    }


def test_the_wipe_deletes_the_file_the_prefs_adapter_writes() -> None:
    assert PREFS_FILE == PREFS


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(states=st.lists(st.sampled_from(["pending", "held", "conflict", "acked"]), max_size=6))
def test_never_a_wipe_while_something_is_unsent(states: list[str]) -> None:
    """Property: wipe_if_clear wipes exactly when every outbox row is acked; otherwise not a
    row changes. An export always leaves the pending ones in the file before the wipe."""
    with tempfile.TemporaryDirectory() as folder:
        db = blank_database(Path(folder) / "recaudo-phone.db")
        register(db)
        ids = []
        for state in states:
            event = record_visit(db, client_id=str(uuid.uuid4()), outcome="contacted", now=MORNING)
            ids.append(event.event_id)
            with db.begin() as s:
                s.execute(
                    update(OutboxRow)
                    .where(OutboxRow.event_id == event.event_id)
                    .values(state=state)
                )
        before = counts(db)

        wiped = wipe_if_clear(db)

        assert wiped == all(state == "acked" for state in states)
        if not wiped:
            assert counts(db) == before
            path = Path(folder) / "export.json"
            assert export_and_wipe(db, path, app_version="test") == states.count("pending")
            exported = [e["event_id"] for b in json.loads(path.read_text()) for e in b["events"]]
            assert exported == [i for i, s in zip(ids, states, strict=True) if s == "pending"]
        assert counts(db) == (0, 0, 0)
