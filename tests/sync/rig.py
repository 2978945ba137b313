"""The world of the sync fault suite: the real FastAPI app on a real database, and phones with
their own SQLite files, registered through the API, each behind its own fault-injecting link.

One `World` per Hypothesis example: the server's writes happen inside an outer transaction that
is rolled back at the end (the app's commits release savepoints), and every phone database is a
fresh copy of one migrated template file, so examples never see each other's data.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, update
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.engine import make_engine as make_phone_engine
from mobile.data.engine import make_session_factory as make_phone_sessions
from mobile.data.migrate import open_database
from mobile.net.client import SyncClient
from mobile.services import device as phone_device
from mobile.services.syncing import SyncOptions, SyncReport, open_client, sync_once
from server.db.models import Client, Invoice, User
from server.services import ledger
from server.services.security import issue_access_token
from server.settings import Settings
from tests.sync.faults import FaultTransport, Network

BOGOTA = timezone(timedelta(hours=-5))
APP_VERSION = "1.0.0"
SIGNING_KEY = "test-signing-key-0123456789-0123456789-abcdef"
BASE_URL = "http://testserver"


def server_settings(db_url: str, data_dir: Path) -> Settings:
    return Settings(
        environment="test", database_url=db_url, data_dir=data_dir, signing_key=SIGNING_KEY
    )


def make_phone_template(path: Path) -> Path:
    """A phone database migrated to head, checkpointed so a plain file copy is complete."""
    db = open_database(path)
    engine = db.kw["bind"]
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@dataclass
class Phone:
    """One installation: its SQLite file, identity, clock and network link."""

    name: str
    username: str
    path: Path
    db: sessionmaker[Session]
    device_id: str
    device_code: str
    token: str
    transport: FaultTransport
    api: SyncClient
    start: datetime
    skew: timedelta = timedelta(0)
    ticks: int = 0

    def now(self) -> datetime:
        """The phone's clock: a minute passes per reading; `skew` puts it off (a year, say)."""
        self.ticks += 1
        return self.start + self.skew + timedelta(minutes=self.ticks)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def restart(self) -> None:
        """The app is killed and started again: migrations run to head on the same file."""
        self.db.kw["bind"].dispose()
        self.db = open_database(self.path)

    def close(self) -> None:
        self.api.close()
        self.db.kw["bind"].dispose()


def sync(phone: Phone, *, chunk: int) -> SyncReport:
    """One cycle of the phone's own sync loop (push in chunks, then pull), on its clock."""
    options = SyncOptions(app_version=APP_VERSION, chunk_events=chunk, pull_limit=10)
    return sync_once(phone.db, phone.api, now=phone.now, options=options)


@dataclass
class Office:
    """The server side of one example: users, clients, and a session for looking at the data."""

    session: Session
    users: dict[str, User]
    tokens: dict[str, dict[str, str]]
    clients: list[uuid.UUID]
    unknown_client: uuid.UUID

    def reassign(self, server: httpx.Client, client_id: uuid.UUID, to: str | None) -> int:
        r = server.put(
            f"/v1/clients/{client_id}/assignment",
            json={"collector": to},
            headers=self.tokens["supervisor"],
        )
        return r.status_code

    def decide(self, server: httpx.Client, path: str, body: dict[str, object]) -> httpx.Response:
        """An office decision through the API (a dispute's, a handover's), as the supervisor."""
        return server.post(path, json=body, headers=self.tokens["supervisor"])

    def close_client(self, client_id: uuid.UUID) -> None:
        """No office endpoint closes a client yet: what its service will do, by hand."""
        self.session.execute(
            update(Client)
            .where(Client.id == client_id)
            .values(status="closed", version=Client.version + 1)
        )
        self.session.commit()


def seed_office(session: Session, collectors: list[str]) -> Office:
    users: dict[str, User] = {}
    office = [("supervisor", "supervisor"), ("admin", "admin")]
    for name, role in [*office, *((c, "collector") for c in collectors)]:
        user = User(username=name, full_name=name, role=role, password_hash="!")
        session.add(user)
        users[name] = user
    session.flush()
    tokens = {
        name: {
            "Authorization": "Bearer "
            + issue_access_token(u.id, u.role, SIGNING_KEY, timedelta(hours=2))
        }
        for name, u in users.items()
    }
    clients: list[uuid.UUID] = []
    for i, name in enumerate(collectors):
        for j in range(2):
            c = Client(code=f"C-{i}{j}", name=f"Cliente {i}{j}", collector_id=users[name].id)
            session.add(c)
            session.flush()
            for k, amount in enumerate(("150000.00", "2500000.00")[: j + 1]):
                inv = Invoice(
                    client_id=c.id,
                    number=f"F-{i}{j}{k}",
                    due_date=date(2026, 9, 30) + timedelta(days=31 * k),
                    amount=Decimal(amount),
                )
                ledger.post_charge(session, inv, source="manual")
            clients.append(c.id)
    session.commit()
    return Office(session, users, tokens, clients, uuid.uuid4())


@dataclass
class World:
    """Everything one example touches; `close()` undoes it."""

    connection: Connection
    server: httpx.Client
    network: Network
    office: Office
    phones: list[Phone] = field(default_factory=list)

    def close(self) -> None:
        for phone in self.phones:
            phone.close()
        self.office.session.close()
        self.connection.rollback()
        self.connection.close()


def open_world(
    engine: Engine,
    app: FastAPI,
    server: httpx.Client,
    template: Path,
    workdir: Path,
    layout: dict[str, int],
) -> World:
    """A fresh server state and phones: `layout` maps each collector to how many phones they
    carry (two phones of one collector are two devices)."""
    connection = engine.connect()
    connection.begin()
    sessions = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.state.session_factory = sessions
    office = seed_office(sessions(), list(layout))
    world = World(connection, server, Network(server), office)
    start = datetime.now(UTC).astimezone(BOGOTA).replace(microsecond=0)
    for username, count in layout.items():
        for n in range(count):
            world.phones.append(
                _phone(world, f"{username}-{n + 1}", username, template, workdir, start)
            )
    return world


def _phone(
    world: World, name: str, username: str, template: Path, workdir: Path, start: datetime
) -> Phone:
    r = world.server.post(
        "/v1/devices",
        json={"name": name, "install_nonce": f"install-{uuid.uuid4().hex}"},
        headers=world.office.tokens[username],
    )
    assert r.status_code == 201, r.text
    reg = r.json()
    path = workdir / f"{name}-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, path)
    db = make_phone_sessions(make_phone_engine(path))
    phone_device.register_device(
        db,
        device_id=reg["device_id"],
        device_code=reg["device_code"],
        device_token=reg["device_token"],
        server_url=BASE_URL,
        server_epoch=reg["server_epoch"],
        username=username,
    )
    transport = FaultTransport(world.network)
    api = open_client(db, app_version=APP_VERSION, transport=transport)
    return Phone(
        name,
        username,
        path,
        db,
        reg["device_id"],
        reg["device_code"],
        reg["device_token"],
        transport,
        api,
        start,
    )
