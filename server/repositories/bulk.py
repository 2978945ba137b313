"""Bulk writes of plain rows in the session's transaction: COPY on PostgreSQL (psycopg), one
driver executemany elsewhere. For the sync push, whose chunks write a few hundred rows to several
tables: COPY is one round trip and no per-row statement on the server, and both skip SQLAlchemy's
per-row parameter bookkeeping.

Every value goes through its column type's bind processor (the same conversion SQLAlchemy would
apply: Money to cents, aware datetimes to UTC, JSON to its wire form). Python-side column defaults
are NOT applied, so rows must name every column that has one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session


def insert_rows(session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows that all have the same keys. A unique or foreign key violation raises
    SQLAlchemy's IntegrityError on both paths (callers retry on it)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    table = cast(Table, model.__table__)
    columns = list(rows[0])
    by_column = [
        _converted([row[name] for row in rows], _bind_processor(table.c[name], dialect))
        for name in columns
    ]
    records = list(zip(*by_column, strict=True))
    preparer = dialect.identifier_preparer
    target = f"{preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in columns)})"
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(connection, f"COPY {target} FROM STDIN", records)
        return
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {target} VALUES ({', '.join([marker] * len(columns))})",  # noqa: S608 - names quoted from metadata
        records,
    )


def _copy(connection: Connection, statement: str, records: Iterable[Sequence[Any]]) -> None:
    dbapi = connection.dialect.loaded_dbapi
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor, cursor.copy(statement) as copy:
            for record in records:
                copy.write_row(record)
    except dbapi.IntegrityError as exc:  # the same error the executemany path raises
        raise IntegrityError(statement, None, exc) from exc
    except dbapi.Error as exc:
        raise DBAPIError(statement, None, exc) from exc


def _converted(values: list[Any], convert: Callable[[Any], Any] | None) -> list[Any]:
    """A column's values through its bind processor, each distinct value once (a chunk repeats
    its device, user, receipt time and clients down the rows); unhashable ones (JSON) one by one."""
    if convert is None:
        return values
    try:
        done = {value: convert(value) for value in set(values)}
    except TypeError:
        return [convert(value) for value in values]
    return [done[value] for value in values]


def _bind_processor(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(
        dialect
    )
    return processor
