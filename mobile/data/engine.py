"""The phone's SQLite engine: WAL, synchronous=FULL (NORMAL can lose a committed payment on power
loss), foreign keys, and BEGIN IMMEDIATE so the write lock is taken when a transaction starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


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

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
