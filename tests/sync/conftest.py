"""Fixtures of the in-process sync fault suite: the real app on SQLite and on PostgreSQL (a
database of its own, so it never races the server tests' one), and a migrated phone template."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from server.db import migrate
from server.db.engine import make_engine
from server.main import create_app
from tests.pg import recreate_database, require_postgres, worker_database_name
from tests.sync.case import Case
from tests.sync.rig import make_phone_template, open_world, server_settings


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def sync_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('syncdb') / 'recaudo.db'}"
    else:
        base = require_postgres()
        url = recreate_database(base, worker_database_name(base, "sync"))
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def sync_engine(sync_db_url: str) -> Iterator[Engine]:
    engine = make_engine(sync_db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def phone_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_phone_template(tmp_path_factory.mktemp("phone") / "template.db")


@pytest.fixture
def sync_app(sync_db_url: str, tmp_path: Path) -> FastAPI:
    return create_app(server_settings(sync_db_url, tmp_path))


@pytest.fixture
def server(sync_app: FastAPI) -> Iterator[TestClient]:
    """The app with no faults in between (the office, and the far end of every phone's link)."""
    with TestClient(sync_app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def case(
    sync_engine: Engine,
    sync_app: FastAPI,
    server: TestClient,
    phone_template: Path,
    tmp_path: Path,
) -> Iterator[Case]:
    world = open_world(
        sync_engine, sync_app, server, phone_template, tmp_path, {"ana": 2, "beto": 1}
    )
    try:
        yield Case(world)
    finally:
        world.close()
