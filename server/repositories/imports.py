"""Queries of the ledger import: existing clients, invoices and users looked up by key in bulk
(one query per few thousand keys instead of one query per row).

On PostgreSQL the keys go as one array parameter (`= ANY(:keys)`): an IN list of 1,000 bound
parameters costs the server more to plan than to run (0.9 s for 100,000 invoice numbers against
0.1 s). SQLite gets IN lists, well under its bound-parameter limit (32,766)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from server.db.models import Client, ImportBatch, Invoice, User

CHUNK = 1000  # keys per IN list (SQLite)
ARRAY_CHUNK = 20_000  # keys per array parameter (PostgreSQL)


def _chunks(session: Session, keys: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(keys))
    size = ARRAY_CHUNK if _arrays(session) else CHUNK
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _arrays(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _matches(
    session: Session, column: InstrumentedAttribute[str], keys: list[str]
) -> ColumnElement[bool]:
    if _arrays(session):
        return column == any_(bindparam("keys", keys, type_=ARRAY(String)))
    return column.in_(keys)


def clients_by_code(session: Session, codes: Iterable[str]) -> dict[str, Any]:
    """code -> (id, code, name, tax_id, segment, address, city, lat, lon, phones, collector_id)."""
    columns = (
        Client.id, Client.code, Client.name, Client.tax_id, Client.segment, Client.address,
        Client.city, Client.lat, Client.lon, Client.phones, Client.collector_id,
    )  # fmt: skip
    found: dict[str, Any] = {}
    for chunk in _chunks(session, codes):
        for row in session.execute(select(*columns).where(_matches(session, Client.code, chunk))):
            found[row.code] = row
    return found


def invoices_by_number(session: Session, numbers: Iterable[str]) -> dict[str, Any]:
    """number -> (id, number, client_id, client_code, amount, balance, issue_date, due_date)."""
    query = select(
        Invoice.id, Invoice.number, Invoice.client_id, Client.code.label("client_code"),
        Invoice.amount, Invoice.balance, Invoice.issue_date, Invoice.due_date,
    ).join(Client, Client.id == Invoice.client_id)  # fmt: skip
    found: dict[str, Any] = {}
    for chunk in _chunks(session, numbers):
        for row in session.execute(query.where(_matches(session, Invoice.number, chunk))):
            found[row.number] = row
    return found


def users_by_username(session: Session, usernames: Iterable[str]) -> dict[str, Any]:
    """username -> (id, username, role, active)."""
    found: dict[str, Any] = {}
    for chunk in _chunks(session, usernames):
        query = select(User.id, User.username, User.role, User.active).where(
            _matches(session, User.username, chunk)
        )
        for row in session.execute(query):
            found[row.username] = row
    return found


def latest_batch_with_sha256(session: Session, sha256: str) -> uuid.UUID | None:
    return session.scalar(
        select(ImportBatch.id)
        .where(ImportBatch.sha256 == sha256)
        .order_by(ImportBatch.created_at.desc())
        .limit(1)
    )
