"""Databases and data for the socket-level runs: a fresh migrated server database (SQLite file or
a PostgreSQL database of its own), collectors with clients and open invoices, and phones
registered through the API with the real phone data layer."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.migrate import open_database
from mobile.services.device import register_device
from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.db.models import Client, User
from server.services.ledger_import.service import ImportOptions, import_rows
from server.services.security import issue_access_token
from shared.scenario import IMPORT_HEADERS
from tests import pg
from tests.chaos.server import SIGNING_KEY

_AS_OF = date(2026, 11, 23)


@contextmanager
def fresh_database(kind: str, folder: Path, postgres_base: str, name: str) -> Iterator[str]:
    """A migrated empty database: a SQLite file in `folder`, or PostgreSQL database `name` on the
    server of `postgres_base` (dropped and recreated first, dropped afterwards)."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'server.db'}"
        migrate.upgrade(url)
        yield url
        return
    with pg.fresh_database(postgres_base, name) as url:
        migrate.upgrade(url)
        yield url


def postgres_base(env: str) -> str | None:
    return os.environ.get(env) or None


@dataclass
class Collector:
    user_id: uuid.UUID
    username: str
    clients: list[str] = field(default_factory=list)

    @property
    def bearer(self) -> dict[str, str]:
        token = issue_access_token(self.user_id, "collector", SIGNING_KEY, timedelta(hours=4))
        return {"Authorization": f"Bearer {token}"}


@dataclass
class Portfolio:
    collectors: list[Collector]
    closed_client: str  # payments to it are held but still posted to its ledger
    unknown_client: str  # not on the server: payments go to suspense


def seed(url: str, *, collectors: int, clients_each: int, invoices_each: int = 2) -> Portfolio:
    """Collectors with active clients that owe open invoices (written by the ledger import, the
    way a real portfolio arrives), plus one closed client."""
    engine = make_engine(url)
    factory: sessionmaker[Session] = make_session_factory(engine)
    with factory() as session:
        users = [
            User(username=f"gestor{n + 1}", full_name=f"Gestor {n + 1}", role="collector",
                 password_hash="unused")
            for n in range(collectors)
        ]  # fmt: skip
        session.add_all(users)
        session.commit()
        rows: list[tuple[int, tuple[object, ...]]] = [(1, IMPORT_HEADERS)]
        for n, user in enumerate(users):
            for k in range(clients_each):
                for i in range(invoices_each):
                    due = date(2026, 10, 1) + timedelta(days=15 * i)
                    rows.append((len(rows) + 1, (
                        f"C{n:03d}-{k:04d}", f"Cliente {n}-{k}", "", "particular", "", "Bogotá",
                        "", "", "", f"F{n:03d}-{k:04d}-{i}", "", due.isoformat(),
                        str(400_000 + 100_000 * i), "", user.username,
                    )))  # fmt: skip
        options = ImportOptions(filename="chaos.csv", sha256=uuid.uuid4().hex * 2, as_of=_AS_OF)
        summary = import_rows(session, iter(rows), options)
        if summary.error_count:
            raise RuntimeError(f"seed import failed: {summary.errors[:3]}")
        closed = Client(code="CERRADO-1", name="Cliente cerrado", status="closed")
        closed.collector_id = users[0].id
        session.add(closed)
        session.commit()
        out = []
        for user in users:
            ids = session.scalars(
                select(Client.id)
                .where(Client.collector_id == user.id, Client.status == "active")
                .order_by(Client.code)
            )
            out.append(Collector(user.id, user.username, [str(i) for i in ids]))
        closed_id = str(closed.id)
    engine.dispose()
    return Portfolio(out, closed_id, str(uuid.uuid4()))


@dataclass
class Registered:
    db: sessionmaker[Session]
    path: Path
    device_id: str
    device_code: str
    token: str


def register_phone(base_url: str, collector: Collector, path: Path) -> Registered:
    """`POST /v1/devices` with the collector's login, then the phone stores what it answered."""
    response = httpx.post(
        f"{base_url}/v1/devices",
        json={"name": "Moto G", "install_nonce": f"install-{uuid.uuid4().hex}"},
        headers=collector.bearer,
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    db = open_database(path)
    register_device(
        db,
        device_id=body["device_id"],
        device_code=body["device_code"],
        device_token=body["device_token"],
        server_url=base_url,
        server_epoch=body["server_epoch"],
        username=collector.username,
    )
    return Registered(db, path, body["device_id"], body["device_code"], body["device_token"])
