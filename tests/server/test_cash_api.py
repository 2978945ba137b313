"""Cash in hand and handovers through the API (`/v1/cash`): worked examples on both engines.

One collector (Ana) pushes cash three days ago, a transfer, a payment at an unknown client (in
suspense, still cash in her pocket) and a payment she voids; then hands some over. What she holds,
what the supervisor sees, and what confirming or rejecting does (audit, review, the phone's
event status)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditLog, ChangeLog, ReviewItem
from shared.calendar import business_date
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import (
    MakeUser,
    Phone,
    check_invariants,
    payment,
    push,
    register_phone,
    statuses,
    void,
)
from tests.server.test_cash_handover_push import handover

D = Decimal
TZ = "America/Bogota"


@dataclass
class Cash:
    ana: Login
    phone: Phone
    boss: Login
    beto: Login
    old: dict[str, Any]  # 120.000 three days ago
    small: dict[str, Any]  # 30.000 three days ago
    parked: dict[str, Any]  # 45.000 today at an unknown client
    voided: dict[str, Any]
    transfer: dict[str, Any]


@pytest.fixture
def cash(client: TestClient, make_user: MakeUser, make_client: Any, clock: FakeClock) -> Cash:
    ana = make_user("collector", username=f"ana-{uuid.uuid4().hex[:6]}")
    beto = make_user("collector", username=f"beto-{uuid.uuid4().hex[:6]}")
    boss = make_user("supervisor")
    phone = register_phone(client, ana)
    own = make_client(collector=ana.user, name="Droguería La 14")
    three_days_ago = (clock.now - timedelta(days=3)).isoformat()
    now = clock.now.isoformat()
    old = payment(phone, own.id, "120000.00", device_time=three_days_ago)
    small = payment(phone, own.id, "30000.00", device_time=three_days_ago)
    parked = payment(phone, uuid.uuid4(), "45000.00", device_time=now)
    voided = payment(phone, own.id, "9999.00", device_time=now)
    transfer = payment(phone, own.id, "70000.00", device_time=now, payload={"method": "transfer"})
    events = [old, small, parked, voided, transfer, void(phone, own.id, voided["event_id"])]
    events[-1]["device_time"] = now
    results = statuses(push(client, phone, events))
    assert results[2] == ("held", "client_unknown")
    return Cash(ana, phone, boss, beto, old, small, parked, voided, transfer)


def in_hand(client: TestClient, who: Login, **params: Any) -> dict[str, Any]:
    r = client.get("/v1/cash/in-hand", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def mine(body: dict[str, Any], username: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in body["collectors"] if c["collector"] == username]
    assert len(found) == 1
    return found[0]


def test_what_a_collector_holds(client: TestClient, cash: Cash, clock: FakeClock) -> None:
    body = in_hand(client, cash.ana)
    today = business_date(clock.now, TZ)
    assert body["as_of"] == today.isoformat()
    (ana,) = body["collectors"]  # a collector sees only herself
    assert ana["collector"] == cash.ana.user.username
    assert (ana["total"], ana["payments_count"], ana["oldest_days"]) == ("195000.00", 3, 3)
    rows = [(p["receipt"], p["amount"], p["paid_on"], p["age_days"]) for p in ana["payments"]]
    three = (today - timedelta(days=3)).isoformat()
    assert sorted(rows) == sorted(
        [
            (cash.old["payload"]["receipt_no"], "120000.00", three, 3),
            (cash.small["payload"]["receipt_no"], "30000.00", three, 3),
            (cash.parked["payload"]["receipt_no"], "45000.00", today.isoformat(), 0),
        ]
    )
    names = {p["client_name"] for p in ana["payments"]}
    assert names == {"Droguería La 14", None}  # None: the unknown client (money in suspense)
    # Her own username is fine, another collector's is not hers to see.
    assert in_hand(client, cash.ana, collector=cash.ana.user.username) == body
    r = client.get(
        "/v1/cash/in-hand", params={"collector": cash.beto.user.username}, headers=cash.ana.headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "collector_not_found")


def test_the_office_sees_every_collector(client: TestClient, cash: Cash) -> None:
    body = in_hand(client, cash.boss)
    assert mine(body, cash.ana.user.username)["total"] == "195000.00"
    beto = mine(body, cash.beto.user.username)
    assert (beto["total"], beto["payments_count"], beto["oldest_days"]) == ("0.00", 0, None)
    assert D(body["total"]) == sum((D(c["total"]) for c in body["collectors"]), D(0))
    only = in_hand(client, cash.boss, collector=cash.beto.user.username)
    assert [c["collector"] for c in only["collectors"]] == [cash.beto.user.username]


def _handover(
    client: TestClient, cash: Cash, names: list[Any], amount: str
) -> tuple[str, tuple[str, str | None]]:
    h = handover(cash.phone, names, amount)
    (result,) = statuses(push(client, cash.phone, [h]))
    return str(h["event_id"]), result


def test_confirming_a_handover(
    client: TestClient, session: Session, cash: Cash, clock: FakeClock
) -> None:
    hid, result = _handover(client, cash, [cash.old, cash.small], "150000.00")
    assert result == ("applied", None)
    # Handed over: no longer in hand (pending counts as handed over).
    assert mine(in_hand(client, cash.ana), cash.ana.user.username)["total"] == "45000.00"
    listed = client.get("/v1/cash/handovers", headers=cash.ana.headers).json()
    assert [(h["id"], h["status"], h["payments_count"], h["amount"]) for h in listed] == [
        (hid, "pending", 2, "150000.00")
    ]
    # The collector may not confirm; the wrong amount is refused and changes nothing.
    url = f"/v1/cash/handovers/{hid}/confirm"
    assert client.post(url, json={"amount": "150000"}, headers=cash.ana.headers).status_code == 403
    r = client.post(url, json={"amount": "149000.00"}, headers=cash.boss.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "amount_mismatch")
    r = client.post(
        url, json={"amount": "150000.00", "note": "visto en extracto"}, headers=cash.boss.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decision_note"]) == ("confirmed", "visto en extracto")
    r = client.post(url, json={"amount": "150000.00"}, headers=cash.boss.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "handover_decided")
    assert mine(in_hand(client, cash.ana), cash.ana.user.username)["total"] == "45000.00"
    session.expire_all()
    audit = session.scalars(select(AuditLog).where(AuditLog.entity_id == hid)).all()
    assert [(a.action, a.actor_id) for a in audit] == [
        ("cash_handover_confirmed", cash.boss.user.id)
    ]
    status = session.scalar(select(ChangeLog).where(ChangeLog.entity_id == uuid.UUID(hid)))
    assert status is not None and status.user_id == cash.ana.user.id
    assert status.data == {"status": "confirmed", "note": "visto en extracto"}
    check_invariants(session)


def test_rejecting_a_held_handover_gives_the_cash_back(
    client: TestClient, session: Session, cash: Cash
) -> None:
    hid, result = _handover(client, cash, [cash.old, cash.parked], "160000.00")
    assert result == ("held", "handover_mismatch")
    assert mine(in_hand(client, cash.ana), cash.ana.user.username)["total"] == "30000.00"
    url = f"/v1/cash/handovers/{hid}"
    r = client.post(f"{url}/confirm", json={"amount": "160000.00"}, headers=cash.boss.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "handover_held")
    r = client.post(f"{url}/reject", json={"note": ""}, headers=cash.boss.headers)
    assert r.status_code == 422
    r = client.post(
        f"{url}/reject", json={"note": "el banco muestra 165.000"}, headers=cash.boss.headers
    )
    assert (r.status_code, r.json()["status"]) == (200, "rejected")
    assert mine(in_hand(client, cash.ana), cash.ana.user.username)["total"] == "195000.00"
    session.expire_all()
    review = session.scalar(select(ReviewItem).where(ReviewItem.event_id == uuid.UUID(hid)))
    assert review is not None
    assert (review.status, review.resolution, review.resolved_by) == (
        "resolved",
        "handover_rejected",
        cash.boss.user.id,
    )
    status = session.scalar(select(ChangeLog).where(ChangeLog.entity_id == uuid.UUID(hid)))
    assert status is not None
    assert status.data == {"status": "rejected", "note": "el banco muestra 165.000"}
    # Handed over again, correctly: the same payments may go in a new handover.
    again, result = _handover(client, cash, [cash.old, cash.parked], "165000.00")
    assert result == ("applied", None)
    assert [
        h["status"]
        for h in client.get(
            "/v1/cash/handovers", params={"status": "pending"}, headers=cash.boss.headers
        ).json()
        if h["id"] in (hid, again)
    ] == ["pending"]


def test_a_payment_voided_after_the_handover_blocks_the_confirmation(
    client: TestClient, session: Session, cash: Cash, make_client: Any, clock: FakeClock
) -> None:
    own = make_client(collector=cash.ana.user)
    fresh = payment(cash.phone, own.id, "5000.00", device_time=clock.now.isoformat())
    assert statuses(push(client, cash.phone, [fresh])) == [("applied", None)]
    hid, result = _handover(client, cash, [fresh], "5000.00")
    assert result == ("applied", None)
    assert statuses(push(client, cash.phone, [void(cash.phone, own.id, fresh["event_id"])])) == [
        ("applied", None)
    ]
    r = client.post(
        f"/v1/cash/handovers/{hid}/confirm", json={"amount": "5000.00"}, headers=cash.boss.headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "handover_payment_voided")
    assert r.json()["error"]["details"]["payment_event_ids"] == [fresh["event_id"]]


def test_unknown_handover(client: TestClient, cash: Cash) -> None:
    r = client.post(
        f"/v1/cash/handovers/{uuid.uuid4()}/reject", json={"note": "x"}, headers=cash.boss.headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "handover_not_found")


def test_the_largest_handover_can_be_confirmed(
    client: TestClient, session: Session, cash: Cash, make_client: Any
) -> None:
    """An implausible amount sits in suspense and is still cash: its handover, up to the
    largest amount the wire carries, is confirmed with that amount (found by the sync machine:
    the confirmation once refused more than 15 integer digits)."""
    own = make_client(collector=cash.ana.user)
    huge = payment(cash.phone, own.id, "1000000000000000.00")
    assert statuses(push(client, cash.phone, [huge])) == [("held", "amount_implausible")]
    hid, result = _handover(client, cash, [huge], "1000000000000000.00")
    assert result == ("applied", None)
    r = client.post(
        f"/v1/cash/handovers/{hid}/confirm",
        json={"amount": "1000000000000000.00"},
        headers=cash.boss.headers,
    )
    assert (r.status_code, r.json()["status"]) == (200, "confirmed")
    check_invariants(session)
