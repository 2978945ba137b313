"""Queries of the ledger import: existing clients, invoices and users looked up by key in bulk
(a few IN queries per thousand keys instead of one query per row)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Client, ImportBatch, Invoice, User

# Well under the bound-parameter limits of SQLite (32,766) and PostgreSQL (65,535).
CHUNK = 1000


def _chunks(keys: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def clients_by_code(session: Session, codes: Iterable[str]) -> dict[str, Any]:
    """code -> (id, code, name, tax_id, segment, address, city, lat, lon, phones, collector_id)."""
    columns = (
        Client.id, Client.code, Client.name, Client.tax_id, Client.segment, Client.address,
        Client.city, Client.lat, Client.lon, Client.phones, Client.collector_id,
    )  # fmt: skip
    found: dict[str, Any] = {}
    for chunk in _chunks(codes):
        for row in session.execute(select(*columns).where(Client.code.in_(chunk))):
            found[row.code] = row
    return found


def invoices_by_number(session: Session, numbers: Iterable[str]) -> dict[str, Any]:
    """number -> (id, number, client_id, client_code, amount, balance, issue_date, due_date)."""
    query = select(
        Invoice.id, Invoice.number, Invoice.client_id, Client.code.label("client_code"),
        Invoice.amount, Invoice.balance, Invoice.issue_date, Invoice.due_date,
    ).join(Client, Client.id == Invoice.client_id)  # fmt: skip
    found: dict[str, Any] = {}
    for chunk in _chunks(numbers):
        for row in session.execute(query.where(Invoice.number.in_(chunk))):
            found[row.number] = row
    return found


def users_by_username(session: Session, usernames: Iterable[str]) -> dict[str, Any]:
    """username -> (id, username, role, active)."""
    found: dict[str, Any] = {}
    for chunk in _chunks(usernames):
        query = select(User.id, User.username, User.role, User.active).where(
            User.username.in_(chunk)
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
