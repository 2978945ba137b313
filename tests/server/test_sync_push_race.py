"""Two pushes of the same event_id on two PostgreSQL connections at once (a retry racing its
original): the loser waits on the winner's unique key, then answers `duplicate` in a new
transaction instead of a 500. Real commits, so it runs on a database of its own."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.db.models import Client, InboundEvent, Invoice, LedgerEntry, User
from server.services import ledger, syncing
from server.services.access import Actor
from server.services.devices import register_device
from sync.protocol import PushResponse, read_push
from tests.pg import fresh_database, require_postgres, worker_database_name
from tests.server.sync_helpers import DEVICE_TIME, check_invariants

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
TZ = ZoneInfo("America/Bogota")


@pytest.fixture(scope="module")
def race_engine() -> Iterator[Engine]:

    base = require_postgres()
    with fresh_database(base, worker_database_name(base, "race")) as target:
        migrate.upgrade(target)
        engine = make_engine(target)
        yield engine
        engine.dispose()


def _setup(factory: sessionmaker[Session]) -> tuple[Actor, Actor, uuid.UUID]:
    """A collector with two registered devices and a client with one open invoice."""
    with factory() as session:
        user = User(username=f"g-{uuid.uuid4().hex[:8]}", role="collector", password_hash="x")
        session.add(user)
        session.flush()
        client = Client(code=f"C-{uuid.uuid4().hex[:8]}", name="Cliente", collector_id=user.id)
        session.add(client)
        session.flush()
        inv = Invoice(
            client_id=client.id,
            number=f"F-{uuid.uuid4().hex[:8]}",
            due_date=date(2026, 10, 31),
            amount=Decimal("100000.00"),
        )
        ledger.post_charge(session, inv, source="manual")
        actors = []
        for _ in range(2):
            base = Actor(user.id, user.username, "collector")
            reg = register_device(
                session, base, name="Moto G", install_nonce=uuid.uuid4().hex, now=NOW
            )
            actors.append(Actor(user.id, user.username, "collector", reg.device.id))
        session.commit()
        return actors[0], actors[1], client.id


def _body(actor: Actor, client_id: uuid.UUID, event_id: str) -> dict[str, object]:
    payload = {"amount": "40000.00", "method": "cash", "receipt_no": "K7Q-000001"}
    event = {
        "event_id": event_id,
        "device_seq": 1,
        "type": "payment.collected",
        "type_version": 1,
        "client_id": str(client_id),
        "device_time": DEVICE_TIME,
        "payload": payload,
    }
    return {"protocol": 1, "device_id": str(actor.device_id), "app_version": "1", "events": [event]}


def _waiting_on_a_lock(engine: Engine, timeout: float = 10.0) -> bool:
    """True once another backend of this database waits on a lock."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
            conn.rollback()
            if waiting:
                return True
            time.sleep(0.02)
    return False


@pytest.mark.parametrize("same_device", [False, True], ids=["two_devices", "same_device"])
def test_the_loser_of_a_race_answers_duplicate(race_engine: Engine, same_device: bool) -> None:
    factory = make_session_factory(race_engine)
    first, other, client_id = _setup(factory)
    second = first if same_device else other
    event_id = str(uuid.uuid4())
    loser: dict[str, PushResponse | BaseException] = {}

    def push_second() -> None:
        try:
            with factory() as session:
                inbound = read_push(_body(second, client_id, event_id))
                loser["response"] = syncing.push_and_commit(
                    session, second, inbound, now=NOW, tz=TZ
                )
        except BaseException as exc:  # reported to the main thread below
            loser["response"] = exc

    with factory() as winner:
        won = syncing.push(
            winner, first, read_push(_body(first, client_id, event_id)), now=NOW, tz=TZ
        )
        thread = threading.Thread(target=push_second)
        thread.start()
        # The second push is blocked behind this uncommitted one (device row, invoice rows or
        # the unique event_id) before the winner commits: a real overlap, not two pushes in turn.
        assert _waiting_on_a_lock(race_engine)
        winner.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    response = loser["response"]
    assert isinstance(response, PushResponse), response
    (result,) = response.results
    assert (result.status, result.server_seq) == ("duplicate", won.results[0].server_seq)
    with factory() as session:
        event = uuid.UUID(event_id)
        counts = [
            session.scalar(select(func.count()).where(InboundEvent.event_id == event)),
            session.scalar(select(func.count()).where(LedgerEntry.event_id == event)),
        ]
        assert counts == [1, 1]
        client = session.get(Client, client_id)
        assert client is not None and client.balance == Decimal("60000.00")
        check_invariants(session)
