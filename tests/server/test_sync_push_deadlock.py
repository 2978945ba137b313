"""Concurrent pushes of two collectors' devices over the same clients on PostgreSQL, while a
supervisor moves clients between them: no deadlock (each push takes device, clients, invoices,
and the server_seq counter last), so no retry and no 429, and the ledger adds up. Before the
lock order was fixed, a chunk held the counter while bumping a client another chunk had locked
for its payment, and that chunk waited for the counter: DeadlockDetected, a 500."""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.db.models import Client, Invoice, User
from server.services import changes, ledger, syncing
from server.services.access import Actor
from server.services.devices import register_device
from sync.protocol import PushResponse, read_push
from tests.pg import fresh_database, require_postgres, worker_database_name
from tests.server.sync_helpers import DEVICE_TIME, check_invariants

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
TZ = ZoneInfo("America/Bogota")
CLIENTS = 6
DEVICES_PER_COLLECTOR = 2
PUSHES = 12
EVENTS = 12


@pytest.fixture(scope="module")
def lock_engine() -> Iterator[Engine]:

    base = require_postgres()
    with fresh_database(base, worker_database_name(base, "locks")) as target:
        migrate.upgrade(target)
        engine = make_engine(target, pool_size=8)
        yield engine
        engine.dispose()


def _world(factory: sessionmaker[Session]) -> tuple[list[uuid.UUID], list[Actor], list[uuid.UUID]]:
    """Two collectors with two devices each; clients alternately theirs, each with invoices."""
    with factory() as session:
        users = []
        for _ in range(2):
            user = User(username=f"g-{uuid.uuid4().hex[:8]}", role="collector", password_hash="x")
            session.add(user)
            users.append(user)
        session.flush()
        clients = []
        for n in range(CLIENTS):
            client = Client(code=f"C-{uuid.uuid4().hex[:8]}", name="Cliente")
            client.collector_id = users[n % 2].id
            session.add(client)
            session.flush()
            for k in range(3):
                inv = Invoice(
                    client_id=client.id,
                    number=f"F-{n}-{k}",
                    due_date=date(2026, 10, 1 + k),
                    amount=Decimal("900000.00"),
                )
                ledger.post_charge(session, inv, source="manual")
            clients.append(client.id)
        actors = []
        for user in users:
            base = Actor(user.id, user.username, "collector")
            for _ in range(DEVICES_PER_COLLECTOR):
                reg = register_device(
                    session, base, name="Moto G", install_nonce=uuid.uuid4().hex, now=NOW
                )
                actors.append(Actor(user.id, user.username, "collector", reg.device.id))
        session.commit()
        return clients, actors, [u.id for u in users]


def _events(rng: random.Random, clients: list[uuid.UUID], seq: int) -> list[dict[str, object]]:
    """Payments and visits to clients of both collectors, in a shuffled order."""
    events: list[dict[str, object]] = []
    for i in range(EVENTS):
        kind = rng.choice(["payment.collected", "visit.recorded"])
        payload: dict[str, object] = (
            {"amount": f"{rng.randint(1, 500)}000.00", "method": "cash", "receipt_no": f"R{i}"}
            if kind == "payment.collected"
            else {"outcome": "contacted"}
        )
        events.append(
            {
                "event_id": str(uuid.uuid4()),
                "device_seq": seq + i,
                "type": kind,
                "type_version": 1,
                "client_id": str(rng.choice(clients)),
                "device_time": DEVICE_TIME,
                "payload": payload,
            }
        )
    return events


def test_overlapping_pushes_and_reassignments_never_deadlock(
    lock_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    factory = make_session_factory(lock_engine)
    clients, actors, collectors = _world(factory)
    outcomes: list[PushResponse | BaseException] = []
    start = threading.Barrier(len(actors) + 1)

    def pushes(n: int, actor: Actor) -> None:
        rng = random.Random(n)
        start.wait()
        for p in range(PUSHES):
            body = {
                "protocol": 1,
                "device_id": str(actor.device_id),
                "app_version": "1",
                "events": _events(rng, clients, 1 + p * EVENTS),
            }
            try:
                with factory() as session:
                    outcomes.append(
                        syncing.push_and_commit(session, actor, read_push(body), now=NOW, tz=TZ)
                    )
            except BaseException as exc:  # reported below
                outcomes.append(exc)

    def reassign() -> None:
        """What the supervisor's assignment does: move the client, then log it (counter last)."""
        rng = random.Random(99)
        start.wait()
        for _ in range(PUSHES):
            cid, new = rng.choice(clients), rng.choice(collectors)
            with factory() as session:
                old = session.scalar(sa.select(Client.collector_id).where(Client.id == cid))
                session.execute(update(Client).where(Client.id == cid).values(collector_id=new))
                changes.client_reassigned(session, cid, old, new)
                session.commit()

    threads = [threading.Thread(target=pushes, args=(n, a)) for n, a in enumerate(actors)]
    threads.append(threading.Thread(target=reassign))
    with caplog.at_level(logging.WARNING, logger=syncing.__name__):
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    failed = [o for o in outcomes if not isinstance(o, PushResponse)]
    assert failed == [] and len(outcomes) == len(actors) * PUSHES
    assert [r.message for r in caplog.records if "lock race" in r.message] == []
    applied = sum(
        r.status != "duplicate" for o in outcomes if isinstance(o, PushResponse) for r in o.results
    )
    assert applied == len(actors) * PUSHES * EVENTS
    with factory() as session:
        check_invariants(session)
