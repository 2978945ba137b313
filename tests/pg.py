"""Databases of their own on the local PostgreSQL for tests that need one (one per xdist worker,
so parallel workers never wait on each other's locks)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

POSTGRES_ENV = "RECAUDO_TEST_POSTGRES_URL"


def worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def postgres_base() -> str | None:
    """The base URL, or None when PostgreSQL tests are off (CI fails instead)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base and os.environ.get("RECAUDO_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{POSTGRES_ENV} is required in CI and is not set")
    return base or None


def require_postgres() -> str:
    base = postgres_base()
    if base is None:
        pytest.skip(f"{POSTGRES_ENV} not set")
    return base


def _admin(base: str) -> sa.Engine:
    return sa.create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")


def recreate_database(base: str, name: str) -> str:
    """Drop and create database `name` on the server of `base`; its URL."""
    admin = _admin(base)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


@contextmanager
def fresh_database(base: str, name: str) -> Iterator[str]:
    """A new database `name` for the block, dropped after it."""
    url = recreate_database(base, name)
    try:
        yield url
    finally:
        admin = _admin(base)
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.dispose()


def worker_database_name(base: str, suffix: str) -> str:
    """`<base database>_<suffix>_<worker>` (or `<base>_<worker>` with no suffix)."""
    stem = make_url(base).database
    return f"{stem}_{suffix}_{worker()}" if suffix else f"{stem}_{worker()}"
