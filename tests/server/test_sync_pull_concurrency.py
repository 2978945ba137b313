"""Cursor completeness under concurrent writers (sync-protocol.md invariant 6), on PostgreSQL:
two threads commit changes (client puts and new event statuses, each transaction holding the
server_seq counter a little before committing) while a reader pages through the scope with small
pages. Every change must be seen, and the reader's mirror must end equal to the server's scope.

Runs in a database of its own (committed rows, real transactions, REPEATABLE READ readers), not
in the rolled-back test transaction of the other server tests."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.api.sync import get_snapshot_session
from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.db.models import Client, User
from server.services import changes, pulling
from server.services.access import Actor
from server.services.devices import current_server_epoch
from shared.calendar import business_tz
from sync.checksum import scope_checksum
from sync.protocol import PullResponse
from tests.pg import fresh_database, require_postgres, worker_database_name

pytestmark = pytest.mark.postgres

WRITES_PER_THREAD = 25
CLIENTS = 30


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    base = require_postgres()
    with fresh_database(base, worker_database_name(base, "pullconc")) as db_url:
        migrate.upgrade(db_url)
        engine = make_engine(db_url)
        yield engine
        engine.dispose()


def _snapshot_session(factory: sessionmaker[Session]) -> Session:
    session = factory()
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return session


def test_every_change_is_seen_while_writers_commit(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    now = datetime.now(UTC)
    with factory() as s:
        user = User(username=f"gestor-{uuid.uuid4().hex[:6]}", role="collector", password_hash="x")
        s.add(user)
        s.flush()
        clients = [
            Client(code=f"K-{i:03d}", name="x", collector_id=user.id) for i in range(CLIENTS)
        ]
        s.add_all(clients)
        s.flush()
        client_ids = [c.id for c in clients]
        current_server_epoch(s, now=now)
        s.commit()
    actor = Actor(user.id, user.username, "collector", device_id=uuid.uuid4())
    written: list[set[uuid.UUID]] = [set(), set()]
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        rng = random.Random(n)
        try:
            for _ in range(WRITES_PER_THREAD):
                with factory() as s:
                    event_id = uuid.uuid4()
                    changes.clients_changed(s, rng.sample(client_ids, 3))
                    changes.event_statuses(s, user.id, [(event_id, "held", "")])
                    time.sleep(rng.random() * 0.004)  # hold the counter: readers must wait
                    s.commit()
                    written[n].add(event_id)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    mirror: dict[str, tuple[int, int]] = {}  # client id -> (version, change seq)
    balances: dict[str, str] = {}
    statuses: set[str] = set()
    cursor: str | None = None
    pages = 0

    def read_page() -> PullResponse:
        nonlocal cursor, pages
        with _snapshot_session(factory) as s:
            p = pulling.pull(
                s, actor, cursor, limit=5, now=now, tz=business_tz(), edges=(30, 60, 90)
            )
            s.commit()
        pages += 1
        for ch in p.changes:
            if ch.entity == "event_status":
                statuses.add(ch.id)
            elif ch.op == "remove":
                mirror.pop(ch.id, None)
            elif ch.version is not None and (ch.id not in mirror or ch.version > mirror[ch.id][0]):
                mirror[ch.id] = (ch.version, ch.seq)
                balances[ch.id] = str((ch.data or {})["balance"])
        cursor = p.next_cursor
        return p

    while any(t.is_alive() for t in threads):
        read_page()
    for t in threads:
        t.join()
    assert not errors, errors
    last = read_page()
    while last.has_more:
        last = read_page()
    assert statuses == {str(e) for e in written[0] | written[1]}
    assert len(statuses) == 2 * WRITES_PER_THREAD
    with factory() as s:
        final = {
            str(cid): version
            for cid, version in s.execute(
                sa.select(Client.id, Client.version).where(Client.collector_id == user.id)
            )
        }
    assert {cid: v for cid, (v, _) in mirror.items()} == final
    assert last.scope_checksum == scope_checksum(
        (uuid.UUID(cid), v, Decimal(balances[cid])) for cid, (v, _) in mirror.items()
    )
    assert pages > 3  # the reader really paged while the writers ran


def test_the_pull_route_session_is_repeatable_read(pg_engine: Engine) -> None:
    state = SimpleNamespace(session_factory=make_session_factory(pg_engine))
    sessions = get_snapshot_session(SimpleNamespace(app=SimpleNamespace(state=state)))  # type: ignore[arg-type]
    session = next(sessions)
    level = session.execute(sa.text("SHOW transaction_isolation")).scalar()
    sessions.close()
    assert level == "repeatable read"
