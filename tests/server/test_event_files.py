"""POST /v1/devices/{device_id}/events: a phone's exported outbox posted by the office, even after
the phone was revoked, recorded once by the push rule (issue 8, "Lost phone")."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Client, LedgerEntry
from tests.server.conftest import Login
from tests.server.sync_helpers import (
    MakeUser,
    Phone,
    check_invariants,
    invoice,
    payment,
    register_phone,
    visit,
)


def exported(phone: Phone, *chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The file mobile/services/exporting.py writes: one push request per chunk."""
    return [
        {"protocol": 1, "device_id": phone.device_id, "app_version": "1.0.0", "events": events}
        for events in chunks
    ]


@pytest.fixture
def office(make_user: MakeUser) -> Login:
    return make_user("supervisor")


def _sync_payments(session: Session, c: Client) -> list[Decimal]:
    session.expire_all()
    return list(
        session.scalars(
            select(LedgerEntry.amount).where(
                LedgerEntry.client_id == c.id, LedgerEntry.source == "sync"
            )
        )
    )


def test_a_revoked_phones_file_lands_once(
    client: TestClient, session: Session, make_user: MakeUser, make_client: Any, office: Login
) -> None:
    collector = make_user("collector")
    phone = register_phone(client, collector)
    c = make_client(collector=collector.user)
    invoice(session, c, "FE-1", date(2026, 10, 1), "500000.00")
    first = [visit(phone, c.id, "payment"), payment(phone, c.id, "120000.00")]
    second = [payment(phone, c.id, "30000.50")]
    admin = make_user("admin")
    r = client.post(f"/v1/devices/{phone.device_id}/revoke", headers=admin.headers)
    assert r.status_code == 200, r.text

    body = exported(phone, first, second)
    url = f"/v1/devices/{phone.device_id}/events"
    r = client.post(url, json=body, headers=office.headers)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("chunks", "events", "applied", "duplicate", "held")} == {
        "chunks": 2,
        "events": 3,
        "applied": 3,
        "duplicate": 0,
        "held": 0,
    }
    assert sorted(_sync_payments(session, c)) == [Decimal("-120000.00"), Decimal("-30000.50")]

    # The same file again (or after the phone synced after all): nothing changes.
    again = client.post(url, json=body, headers=office.headers)
    assert (again.json()["applied"], again.json()["duplicate"]) == (0, 3)
    assert len(_sync_payments(session, c)) == 2
    session.expire_all()
    c_now = session.get(Client, c.id)
    assert c_now is not None and c_now.balance == Decimal("349999.50")
    audit = session.scalars(
        select(AuditLog).where(AuditLog.action == "device.events_imported")
    ).all()
    assert [(a.actor_id, a.details["applied"]) for a in audit] == [
        (office.user.id, 3),
        (office.user.id, 0),
    ]
    check_invariants(session)


def test_a_file_of_another_device_changes_nothing(
    client: TestClient, session: Session, make_user: MakeUser, make_client: Any, office: Login
) -> None:
    collector = make_user("collector")
    phone, other = register_phone(client, collector), register_phone(client, collector)
    c = make_client(collector=collector.user)
    body = exported(phone, [payment(phone, c.id, "1000.00")]) + exported(
        other, [payment(other, c.id, "2000.00")]
    )
    r = client.post(f"/v1/devices/{phone.device_id}/events", json=body, headers=office.headers)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "device_mismatch"
    assert r.json()["error"]["details"]["index"] == 1
    assert _sync_payments(session, c) == []


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not json", "invalid_json"),
        (b"[]", "invalid_event_file"),
        (json.dumps({"events": []}).encode(), "invalid_event_file"),
        (json.dumps([{"protocol": 1}]).encode(), "invalid_push"),
    ],
)
def test_bad_files_are_422_with_a_code(
    client: TestClient, make_user: MakeUser, office: Login, content: bytes, code: str
) -> None:
    phone = register_phone(client, make_user("collector"))
    r = client.post(
        f"/v1/devices/{phone.device_id}/events",
        content=content,
        headers={**office.headers, "Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, code)


def test_an_unknown_device_is_404(client: TestClient, office: Login) -> None:
    r = client.post(f"/v1/devices/{uuid.uuid4()}/events", json=[], headers=office.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "device_not_found")
