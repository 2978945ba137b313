"""The phone's SQLite engine: WAL, synchronous=FULL (NORMAL can lose a committed payment on power
loss), foreign keys, and BEGIN IMMEDIATE so the write lock is taken when a transaction starts.
A full disk (SQLITE_FULL) surfaces as `StorageFull`, a DomainError with a stable code."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, sessionmaker

from shared.errors import DomainError

STORAGE_FULL_MESSAGE = "El teléfono no tiene espacio: libere espacio y vuelva a intentar"


class StorageFull(DomainError):
    """The phone's storage is full: the write's transaction is rolled back whole as this leaves
    it (SQLite keeps the file intact), what was saved before stays, the same action can retry."""

    code = "device_storage_full"

    def __init__(self, message: str = STORAGE_FULL_MESSAGE) -> None:
        super().__init__(message)


def is_storage_full(exc: BaseException | None) -> bool:
    # Primary result code: ENOSPC and `PRAGMA max_page_count` both end in SQLITE_FULL.
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF == sqlite3.SQLITE_FULL
    )


def database_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def make_engine(path: Path, **kwargs: Any) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        database_url(path), connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
    )

    # pysqlite's own transaction handling breaks SAVEPOINT and transactional DDL; take it over
    # (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    # Every statement, COMMIT included, goes through here: one place turns SQLITE_FULL into the
    # message the collector can act on instead of SQLAlchemy's OperationalError.
    @event.listens_for(engine, "handle_error")
    def _full(context: ExceptionContext) -> BaseException | None:
        if is_storage_full(context.original_exception):
            return StorageFull()
        return None

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
