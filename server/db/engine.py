"""Engine and session factories. Nothing is created at import time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.errors import InvalidInput


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the pragmas each backend needs to be a trustworthy ledger."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread off: the pool hands a connection to one thread at a time anyway.
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        _sqlite_recipes(engine)
        _refuse_nul(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    _refuse_nul(engine)
    return engine


def _refuse_nul(engine: Engine) -> None:
    """A NUL character in a bound text value is bad input (422 `invalid_character`), on both
    engines: PostgreSQL cannot store it in text and answered every such value (a login name, a
    device name, a `?collector=` filter) with an error, a 500. JSON values are already
    serialised here, with NUL escaped, so a held push event keeps its raw content."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, _statement: str, parameters: Any, *_: Any) -> None:
        # executemany: a list of rows; otherwise one row (a dict, or a tuple, also when
        # "insertmanyvalues" flattens many rows into one statement)
        for row in parameters if isinstance(parameters, list) else (parameters,):
            for value in row.values() if isinstance(row, dict) else row or ():
                if (type(value) is str and "\x00" in value) or (
                    isinstance(value, list | tuple)
                    and any(type(item) is str and "\x00" in item for item in value)
                ):
                    raise InvalidInput(
                        "el texto tiene un carácter nulo (NUL), que no se puede guardar",
                        code="invalid_character",
                    )


def _sqlite_recipes(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and transactional DDL; take it over
    # (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE: take the write lock up front so two writers queue instead of deadlocking.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# SQLSTATEs of a PostgreSQL that is going away or not back yet: connection_exception (class 08),
# admin_shutdown, crash_shutdown, cannot_connect_now ("the database system is starting up").
_UNAVAILABLE_CLASSES = ("08",)
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03"})


def database_unavailable(exc: DBAPIError) -> bool:
    """The database could not be reached or dropped the connection (PostgreSQL restarting,
    crashed, or down): the request can be retried as it is once the database is back.

    SQLAlchemy has already invalidated the connection (`connection_invalidated`) and, for a
    disconnect, every pooled connection older than it, so the request after PostgreSQL is back
    gets a fresh one (with `pool_pre_ping` on top). A SQLite error is never this: its file is
    either there or a real fault."""
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(_UNAVAILABLE_CLASSES) or sqlstate in _UNAVAILABLE_STATES
    # psycopg reports a failed connect (refused, reset during startup) with no SQLSTATE.
    return isinstance(exc, OperationalError) and type(exc.orig).__module__.startswith("psycopg")
