"""Kill -9 the phone process while it pulls: each page lands whole with its cursor, the outbox
is intact, and the next sync converges to the server's view.

The server is the real app under uvicorn in a thread, on its own SQLite file (a real socket, so
a second process can talk to it); the phone is a child process killed mid-pull."""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.migrate import open_database
from mobile.net.client import SyncClient
from mobile.services.recording import record_payment
from mobile.services.syncing import SyncOptions, sync_once
from server.db import migrate
from server.db.models import Client, Invoice, User
from server.main import create_app
from server.services import ledger
from server.services.security import issue_access_token
from server.settings import Settings
from tests.mobile.live import enroll_over_http, mirror_view, server_view
from tests.server.conftest import TEST_SIGNING_KEY, Login, _hashed
from tests.server.sync_helpers import check_invariants

PAGE = 5  # clients per pull page: a page applied whole leaves a multiple of it in the mirror
CLIENTS = 100  # 20 pages: the three kills together stop well before the last one

CHILD = """
import sys
from pathlib import Path

from mobile.data.engine import make_engine, make_session_factory
from mobile.net.client import SyncClient
from mobile.services.syncing import SyncOptions, sync_once

# Already at head (the parent enrolled it): skip importing Alembic, 2/3 of the start-up.
db = make_session_factory(make_engine(Path(sys.argv[1])))
api = SyncClient(sys.argv[2], sys.argv[3])
report = sync_once(
    db, api, options=SyncOptions(pull_limit=int(sys.argv[4])),
    # Called before each pull request, so after the previous page was committed.
    on_progress=lambda r: r.phase != "done" and print(r.phase, r.pulled, flush=True),
)
print("finished", report.error_kind, flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    migrate.upgrade(url)
    app = create_app(
        Settings(
            environment="test", database_url=url, data_dir=tmp_path, signing_key=TEST_SIGNING_KEY
        )
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app.state.session_factory
    finally:
        server.should_exit = True
        thread.join(30)


def _seed(factory: sessionmaker[Session]) -> Login:
    """A collector with CLIENTS clients owing one invoice each, in one transaction."""
    with factory() as session:
        user = User(username=f"gestor-{uuid.uuid4().hex[:6]}", full_name="Gestor", role="collector",
                    password_hash=_hashed("clave-segura-1"))  # fmt: skip
        clients = [
            Client(code=f"C-{i:03d}", name=f"Tienda {i}", collector=user) for i in range(CLIENTS)
        ]
        session.add_all([user, *clients])
        session.flush()
        for i, c in enumerate(clients):
            inv = Invoice(client_id=c.id, number=f"F-{i:03d}", due_date=date(2026, 9, 30),
                          amount=Decimal("100000.00"))  # fmt: skip
            ledger.post_charge(session, inv, source="manual")
        session.commit()
        token = issue_access_token(user.id, "collector", TEST_SIGNING_KEY, timedelta(hours=1))
        return Login(user, "clave-segura-1", {"Authorization": f"Bearer {token}"})


def test_kill_9_mid_pull_keeps_pages_whole_and_the_outbox_intact(
    tmp_path: Path, live_server: tuple[str, sessionmaker[Session]]
) -> None:
    base, factory = live_server
    login = _seed(factory)
    path = tmp_path / "phone.db"
    db, token = enroll_over_http(base, login, path)
    with factory() as session:
        first = session.scalars(select(Client).order_by(Client.code).limit(1)).one()
    now = datetime.now(UTC)
    for amount in (1000, 2000, 3000):
        record_payment(db, client_id=first.id, amount=Decimal(amount), method="cash", now=now)
    db.kw["bind"].dispose()

    def outbox_rows() -> dict[str, str]:
        with sqlite3.connect(path) as conn:
            return dict(conn.execute("SELECT event_id, payload FROM outbox").fetchall())

    before = outbox_rows()
    rng = random.Random(11)
    # First while it pushes (before, during or after the answer is recorded), then twice while
    # it pulls: the second pull resumes from the cursor the first one left.
    for phase, lines in (("push", 1), ("pull", rng.randint(2, 4)), ("pull", rng.randint(2, 4))):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), base, token, str(PAGE)],
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
        )  # fmt: skip
        assert child.stdout is not None
        seen = 0
        while seen < lines:
            line = child.stdout.readline()
            assert line.startswith(("push", "pull")), line
            seen += line.startswith(phase)
        time.sleep(rng.uniform(0, 0.03))  # somewhere inside the request or its transaction
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
        assert child.returncode == -signal.SIGKILL
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            (mirrored,) = conn.execute("SELECT count(*) FROM client").fetchone()
            states = {state for (state,) in conn.execute("SELECT state FROM outbox")}
        assert mirrored % PAGE == 0 and mirrored < CLIENTS, mirrored
        assert states <= {"pending", "acked"}
        assert outbox_rows() == before

    db = open_database(path)
    with SyncClient(base, token, transport=httpx.HTTPTransport()) as api:
        report = sync_once(db, api, options=SyncOptions(pull_limit=PAGE))
    assert (report.ok, report.pending_left, report.resyncs) == (True, 0, 0), report
    assert outbox_rows() == before
    with factory() as session:
        assert mirror_view(db) == server_view(session, login.user.id)
        check_invariants(session)
