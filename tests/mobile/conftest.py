"""Phone tests: a fresh device database per test, built by the real migrations."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.engine import make_engine, make_session_factory
from mobile.data.migrate import upgrade
from mobile.data.models import ClientMirror
from mobile.services.device import register_device

# The server's fixtures (a real app on SQLite and PostgreSQL, users, clients), for the tests that
# sync a phone against it; pytest finds fixtures by name in a conftest's namespace.
from tests.server.conftest import (  # noqa: F401
    app,
    client,
    clock,
    connection,
    db_url,
    engine,
    make_client,
    make_user,
    session,
    session_factory,
    settings,
)

BOGOTA = timezone(timedelta(hours=-5))
# A Monday morning in Bogotá, as the phone's clock gives it (with its UTC offset).
MORNING = datetime(2026, 11, 23, 10, 21, 7, tzinfo=BOGOTA)
DEVICE_ID = "0b9c7c5e-5d1f-4b7e-9a57-2f8a3f0d6a11"


@functools.cache
def _migrated_template() -> Path:
    """One database brought to head by the real migrations per test run; tests copy it (a
    copy is 0.3 ms, a migration run 100 ms). test_migrations runs the migrations themselves."""
    folder = Path(tempfile.mkdtemp(prefix="recaudo-phone-template-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "phone.db"
    upgrade(path)  # closes its engine, so the WAL is checkpointed into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def blank_database(path: Path) -> sessionmaker[Session]:
    """What `open_database` gives on first start: an empty phone database at head."""
    shutil.copyfile(_migrated_template(), path)
    return make_session_factory(make_engine(path))


def new_device(path: Path, code: str = "K7Q") -> sessionmaker[Session]:
    db = blank_database(path)
    register_device(
        db,
        device_id=str(uuid.uuid4()) if code != "K7Q" else DEVICE_ID,
        device_code=code,
        device_token="token-" + code,
        server_url="http://127.0.0.1:8000",
        server_epoch="epoch-1",
        username="gestor1",
    )
    return db


@pytest.fixture
def db(tmp_path: Path) -> sessionmaker[Session]:
    return new_device(tmp_path / "phone.db")


@pytest.fixture
def mirror_client(db: sessionmaker[Session]) -> Callable[..., str]:
    def make(balance: str = "0.00", change_seq: int = 0) -> str:
        client_id = str(uuid.uuid4())
        with db.begin() as local:
            local.add(
                ClientMirror(
                    id=client_id,
                    code=f"C{client_id[:6]}",
                    name="Tienda La Esquina",
                    balance=Decimal(balance),
                    version=1,
                    change_seq=change_seq,
                    updated_at=MORNING,
                )
            )
        return client_id

    return make
