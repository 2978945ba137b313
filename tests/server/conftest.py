"""Server test fixtures: every database test runs on SQLite and on PostgreSQL.

The schema is built by the real migrations once per engine; each test runs inside an outer
transaction that is rolled back, and the app under test shares that connection (routes' commits
only release a savepoint), so tests never clean up rows.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from server.api.deps import get_clock
from server.db import migrate
from server.db.engine import make_engine
from server.db.models import Client, User
from server.main import create_app
from server.services.security import hash_password, issue_access_token
from server.settings import Settings
from tests.pg import recreate_database, require_postgres, worker_database_name

TEST_SIGNING_KEY = "test-signing-key-0123456789-0123456789-abcdef"


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "recaudo.db"
        url = f"sqlite:///{path}"
    else:
        base = require_postgres()
        url = recreate_database(base, worker_database_name(base, ""))
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=db_url,
        data_dir=tmp_path,
        signing_key=TEST_SIGNING_KEY,
    )


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    application = create_app(settings)
    application.state.session_factory = session_factory
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@functools.cache
def _hashed(password: str) -> str:
    """argon2 is slow on purpose; the test users share a handful of passwords."""
    return hash_password(password)


@dataclass
class Login:
    user: User
    password: str
    headers: dict[str, str]


@pytest.fixture
def make_user(session: Session, settings: Settings):  # type: ignore[no-untyped-def]
    """Create a user directly in the database and a bearer header for them."""

    def _make(
        role: str = "collector", username: str | None = None, password: str = "clave-segura-1"
    ) -> Login:
        user = User(
            username=username or f"{role}-{uuid.uuid4().hex[:8]}",
            full_name=f"Usuario {role}",
            role=role,
            password_hash=_hashed(password),
        )
        session.add(user)
        session.commit()
        token = issue_access_token(user.id, role, settings.signing_key, timedelta(hours=1))
        return Login(user, password, {"Authorization": f"Bearer {token}"})

    return _make


@pytest.fixture
def make_client(session: Session):  # type: ignore[no-untyped-def]
    def _make(code: str | None = None, collector: User | None = None, **fields: object) -> Client:
        c = Client(
            code=code or f"C-{uuid.uuid4().hex[:6]}",
            name=str(fields.pop("name", "Cliente de prueba")),
            collector_id=collector.id if collector else None,
            **fields,
        )
        session.add(c)
        session.commit()
        return c

    return _make


class FakeClock:
    """The `now` of every use case that asks the clock dependency; tests move it by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    # Near real time: the JWT library checks expiry against the real clock.
    fake = FakeClock(datetime.now(UTC).replace(microsecond=0))
    app.dependency_overrides[get_clock] = lambda: fake
    return fake
