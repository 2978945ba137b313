"""A database that cannot be reached answers 503 `database_unavailable` with Retry-After (the
phone retries the same events); every other database error stays a 500. The real thing, a
PostgreSQL restarted or stopped under the server, is tests/chaos/test_pg_restart.py."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from server.db.engine import database_unavailable


class _PgError(psycopg.OperationalError):
    """A psycopg error with a chosen SQLSTATE (psycopg's own come from the server)."""

    def __init__(self, sqlstate: str | None) -> None:
        self._state = sqlstate  # before psycopg's __init__, which reads `sqlstate`
        super().__init__("boom")

    @property
    def sqlstate(self) -> str | None:  # type: ignore[override]
        return self._state


def _error(
    orig: Exception, *, invalidated: bool = False, cls: type = OperationalError
) -> DBAPIError:
    err: DBAPIError = cls("SELECT 1", None, orig, connection_invalidated=invalidated)
    return err


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (_error(psycopg.OperationalError("connection refused")), True),  # connect failed
        (_error(_PgError("57P01")), True),  # admin_shutdown: pg_ctl stop/restart -m fast
        (_error(_PgError("57P03")), True),  # the database system is starting up
        (_error(_PgError("08006")), True),  # connection_failure
        (_error(_PgError(None), invalidated=True), True),  # the server closed the connection
        (_error(_PgError("53100")), False),  # disk_full: a real fault, not a restart
        (_error(_PgError("23505"), cls=IntegrityError), False),
        (_error(sqlite3.OperationalError("database is locked")), False),
    ],
)
def test_which_errors_mean_unavailable(error: DBAPIError, unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable


def _raising(app: FastAPI, error: Exception) -> TestClient:
    @app.get("/test-only/db")
    def db() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


def test_unavailable_answers_503_with_retry_after(app: FastAPI) -> None:
    with _raising(app, _error(psycopg.OperationalError("connection refused"))) as client:
        response = client.get("/test-only/db")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert int(response.headers["retry-after"]) >= 1
    assert "refused" not in response.text  # no driver internals in the answer


def test_other_database_errors_stay_500(app: FastAPI) -> None:
    with _raising(app, _error(sqlite3.OperationalError("no such table: x"))) as client:
        response = client.get("/test-only/db")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
