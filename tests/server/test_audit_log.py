"""An audit log the API cannot alter (issue 8), and a ledger that stays append-only.

- The database refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) of `audit_log` and
  `ledger_entry` rows: migration 0007's triggers, checked here at head on both engines.
- Every route of the app's table (the access matrix's declarations and sample requests), called
  by every kind of caller, sends no UPDATE or DELETE to those tables, never fails with a 5xx, and
  a request that reassigns a client or posts office entries to the ledger (an adjustment, a
  credit note, an import) writes an audit row in the same request.
- Assignments, review decisions and adjustments each leave their audit row (worked examples).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Client, LedgerEntry, User
from tests.server.test_access_matrix import (  # noqa: F401  (world is a fixture)
    DECLARED_AND_PRESENT,
    ROLES,
    ROUTES,
    World,
    _id,
    call,
    world,
)

HISTORY = ("audit_log", "ledger_entry")
_ALTER = re.compile(
    r"^\s*(?:UPDATE\s+|DELETE\s+FROM\s+|TRUNCATE\s+(?:TABLE\s+)?)\"?(audit_log|ledger_entry)\b",
    re.IGNORECASE,
)
_UPSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+\"?(audit_log|ledger_entry)\b.*\bON\s+CONFLICT\b.*\bDO\s+UPDATE\b",
    re.IGNORECASE | re.DOTALL,
)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+\"?(\w+)", re.IGNORECASE)
_REASSIGN = re.compile(r"^\s*UPDATE\s+\"?client\"?\s+SET\b[^;]*\bcollector_id\b", re.IGNORECASE)
# Money from the field is recorded by the push rule (its inbound events are the record).
FIELD_ROUTES = {("POST", "/v1/sync/push")}


@contextmanager
def statements(connection: Connection) -> Iterator[list[str]]:
    """Every SQL statement sent on the test's connection (the app's sessions share it)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def altering(sql: list[str]) -> list[str]:
    return [s for s in sql if _ALTER.match(s) or _UPSERT.match(s)]


def inserted(sql: list[str]) -> set[str]:
    return {m.group(1).lower() for s in sql if (m := _INSERT.match(s))}


@pytest.mark.parametrize("key", DECLARED_AND_PRESENT, ids=_id)
def test_no_route_alters_the_audit_log_or_the_ledger(
    client: TestClient,
    connection: Connection,
    world: World,  # noqa: F811  (the access matrix's fixture)
    key: tuple[str, str],
) -> None:
    for caller in ("device", *ROLES):  # the device first: an admin may revoke it
        with statements(connection) as sql:
            response = call(client, key, world, caller)
        assert response.status_code < 500, f"{caller} on {_id(key)}: {response.text}"
        assert not altering(sql), f"{caller} on {_id(key)}: {altering(sql)}"
        tables = inserted(sql)
        office_entries = "ledger_entry" in tables and key not in FIELD_ROUTES
        reassigned = any(_REASSIGN.match(s) for s in sql)
        if office_entries or reassigned:
            assert "audit_log" in tables, f"{caller} on {_id(key)} wrote no audit row"


def test_the_route_walk_reaches_writes() -> None:
    """The walk above is not vacuous: the samples include routes that write history."""
    writing = {("POST", "/v1/imports/ledger"), ("PUT", "/v1/clients/{client_id}/assignment")}
    assert writing <= set(DECLARED_AND_PRESENT) and all(ROUTES[k].ok for k in writing)


# --- the database refuses ----------------------------------------------------------------------


@pytest.fixture
def history(session: Session) -> tuple[int, uuid.UUID]:
    """One audit row and one ledger entry, committed to the test's transaction."""
    owner = Client(code=f"C-{uuid.uuid4().hex[:6]}", name="Cliente auditado")
    session.add(owner)
    session.flush()
    entry = LedgerEntry(
        client_id=owner.id,
        kind="adjustment",
        amount=Decimal("-10.00"),
        effective_date=date(2026, 11, 23),
        source="manual",
        reason="prueba",
    )
    audit = AuditLog(action="test.row", entity="client", entity_id=str(owner.id), details={})
    session.add_all([entry, audit])
    session.commit()
    return audit.id, entry.id


ATTEMPTS = {
    "update audit_log": "UPDATE audit_log SET action = 'edited' WHERE id = :audit",
    "delete audit_log": "DELETE FROM audit_log WHERE id = :audit",
    "update ledger_entry": "UPDATE ledger_entry SET amount = 0 WHERE id = :entry",
    "delete ledger_entry": "DELETE FROM ledger_entry WHERE id = :entry",
    "delete all audit_log": "DELETE FROM audit_log",
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_the_database_refuses_to_alter_history(
    session: Session, history: tuple[int, uuid.UUID], attempt: str
) -> None:
    audit_id, entry_id = history
    before = _snapshot(session, audit_id, entry_id)
    savepoint = session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(ATTEMPTS[attempt]), _params(session, audit_id, entry_id))
    savepoint.rollback()
    assert _snapshot(session, audit_id, entry_id) == before


def test_postgresql_refuses_truncate(session: Session, history: tuple[int, uuid.UUID]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    for table in HISTORY:
        savepoint = session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(f"TRUNCATE {table} CASCADE"))
        savepoint.rollback()
    assert session.get(AuditLog, history[0]) is not None


def test_inserting_still_works(session: Session, history: tuple[int, uuid.UUID]) -> None:
    session.add(AuditLog(action="test.more", entity="client", entity_id="x", details={}))
    session.commit()
    count = session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action.in_(["test.row", "test.more"])))  # fmt: skip
    assert count == 2


def _params(session: Session, audit_id: int, entry_id: uuid.UUID) -> dict[str, object]:
    # SQLite stores a UUID as 32 hex digits (SQLAlchemy's Uuid type), PostgreSQL as uuid.
    sqlite = session.get_bind().dialect.name == "sqlite"
    return {"audit": audit_id, "entry": entry_id.hex if sqlite else entry_id}


def _snapshot(session: Session, audit_id: int, entry_id: uuid.UUID) -> tuple[object, ...]:
    session.expire_all()
    audit = session.get(AuditLog, audit_id)
    entry = session.get(LedgerEntry, entry_id)
    assert audit is not None and entry is not None
    return audit.action, entry.amount


# --- what leaves an audit row ------------------------------------------------------------------


def _audits(session: Session, action: str, entity_id: str) -> list[AuditLog]:
    session.expire_all()
    query = select(AuditLog).where(AuditLog.action == action, AuditLog.entity_id == entity_id)
    return list(session.scalars(query))


def test_an_assignment_is_audited(
    client: TestClient,
    session: Session,
    make_user: Callable[..., Any],
    make_client: Callable[..., Client],
) -> None:
    supervisor = make_user("supervisor")
    first, second = make_user("collector"), make_user("collector")
    owned = make_client(collector=first.user)
    response = client.put(
        f"/v1/clients/{owned.id}/assignment",
        json={"collector": second.user.username},
        headers=supervisor.headers,
    )
    assert response.status_code == 200, response.text
    (row,) = _audits(session, "client.assign", str(owned.id))
    assert row.actor_id == supervisor.user.id
    assert row.details == {"old": first.user.username, "new": second.user.username}


def test_an_imported_reassignment_and_adjustment_are_audited(
    client: TestClient,
    session: Session,
    make_user: Callable[..., Any],
    make_client: Callable[..., Client],
) -> None:
    admin = make_user("admin")
    first, second = make_user("collector"), make_user("collector")
    owned = make_client(collector=first.user)
    csv = (
        "codigo_cliente;nombre_cliente;factura;fecha_vencimiento;valor;saldo;gestor\r\n"
        f"{owned.code};Ana;FE-AUD-1;15/03/2025;1.000;400;{second.user.username}\r\n"
    ).encode()
    response = client.post(
        "/v1/imports/ledger", files={"file": ("c.csv", csv, "text/csv")}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    batch = response.json()["batch_id"]
    (moved,) = _audits(session, "client.assigned", str(owned.id))
    assert moved.details["import_batch_id"] == batch and moved.actor_id == admin.user.id
    (imported,) = _audits(session, "ledger.imported", batch)
    assert imported.details["adjustments_net"] == "-600.00"
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.client_id == owned.id)).all()
    assert {e.kind for e in entries} == {"charge", "adjustment"}
    assert {str(e.import_batch_id) for e in entries} == {batch}  # each entry names the batch


def test_users_cannot_be_rewritten_through_the_audit_trail(session: Session) -> None:
    """The actor of an audit row is a foreign key without ON DELETE: deleting a user who acted
    is refused by the database rather than rewriting (SET NULL) the rows."""
    user = User(username=f"u-{uuid.uuid4().hex[:8]}", role="admin", password_hash="x")
    session.add(user)
    session.flush()
    session.add(AuditLog(actor_id=user.id, action="test.actor", entity="user", entity_id="x"))
    session.commit()
    savepoint = session.begin_nested()
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM app_user WHERE username = :u"), {"u": user.username})
        session.flush()
    savepoint.rollback()
