"""The office's agreement endpoints (server/api/agreements.py): create, list with standing, read,
approve / reject / cancel, with audit rows and a client put for the phone."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Client
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import (
    MakeUser,
    Phone,
    event,
    payment,
    push,
    register_phone,
    statuses,
)

BOGOTA = ZoneInfo("America/Bogota")
D = Decimal


@pytest.fixture
def office(make_user: MakeUser) -> Login:
    return make_user("supervisor")


@pytest.fixture
def phone(client: TestClient, make_user: MakeUser) -> Phone:
    return register_phone(client, make_user("collector"))


def today(clock: FakeClock) -> date:
    return clock.now.astimezone(BOGOTA).date()


def plan(*items: tuple[date, str]) -> dict[str, Any]:
    return {"installments": [{"due_date": d.isoformat(), "amount": a} for d, a in items]}


def version(session: Session, client_id: uuid.UUID) -> int:
    session.expire_all()
    c = session.get(Client, client_id)
    assert c is not None
    return c.version


def audit(session: Session) -> list[str]:
    rows = session.scalars(
        select(AuditLog).where(AuditLog.entity == "payment_agreement").order_by(AuditLog.id)
    )
    return [a.action for a in rows]


def propose(
    client: TestClient, phone: Phone, client_id: uuid.UUID, clock: FakeClock, **kw: Any
) -> str:
    """A proposal made on the phone a week ago: $100.000 due five days ago, $200.000 in 20 days."""
    day = today(clock)
    payload = plan((day - timedelta(days=5), "100000.00"), (day + timedelta(days=20), "200000.00"))
    ev = event(
        phone,
        "agreement.proposed",
        client_id,
        {**payload, "notes": "cuotas quincenales"},
        device_time=(clock.now - timedelta(days=7)).isoformat(),
        **kw,
    )
    assert statuses(push(client, phone, [ev])) == [("applied", None)]
    return str(ev["event_id"])


def test_the_office_creates_an_active_agreement(
    client: TestClient, session: Session, office: Login, make_client, clock: FakeClock
) -> None:
    c = make_client()
    day = today(clock)
    before = version(session, c.id)
    body = {**plan((day, "50000.00"), (day + timedelta(days=30), "50000.00")), "notes": "firmado"}
    r = client.post(f"/v1/clients/{c.id}/agreements", json=body, headers=office.headers)
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["status"], got["standing"], got["origin"]) == ("active", "on_track", "office")
    assert (got["total"], got["notes"], got["decided_by"]) == (
        "100000.00",
        "firmado",
        office.user.username,
    )
    assert [(i["seq"], i["status"], i["paid"]) for i in got["installments"]] == [
        (1, "pending", "0.00"),
        (2, "pending", "0.00"),
    ]
    assert version(session, c.id) == before + 1  # the phone gets the client again
    assert audit(session) == ["agreement.create"]
    # One active agreement per client.
    again = client.post(f"/v1/clients/{c.id}/agreements", json=body, headers=office.headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "agreement_already_active")


@pytest.mark.parametrize(
    "offsets",
    [[-3], [4, 4], [9, 2], [1, 5000]],
    ids=["past", "same-day", "decreasing", "too-far"],
)
def test_a_bad_schedule_is_refused_and_changes_nothing(
    client: TestClient,
    session: Session,
    office: Login,
    make_client,
    clock: FakeClock,
    offsets: list[int],
) -> None:
    c = make_client()
    body = plan(*((today(clock) + timedelta(days=d), "10.00") for d in offsets))
    r = client.post(f"/v1/clients/{c.id}/agreements", json=body, headers=office.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "agreement_invalid")
    assert audit(session) == []
    assert client.get("/v1/agreements", headers=office.headers).json()["total"] == 0


def test_bad_input_has_stable_codes(
    client: TestClient, office: Login, make_client, clock: FakeClock
) -> None:
    day = today(clock)
    ok = plan((day + timedelta(days=1), "10.00"))
    unknown = client.post(f"/v1/clients/{uuid.uuid4()}/agreements", json=ok, headers=office.headers)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "client_not_found")
    closed = make_client(status="closed")
    r = client.post(f"/v1/clients/{closed.id}/agreements", json=ok, headers=office.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "client_closed")
    c = make_client()
    for bad in (
        {"installments": []},
        plan((day, "0.00")),
        plan((day, "1.5e3")),
        {"installments": [{"due_date": "31/12/2026", "amount": "10.00"}]},
    ):
        r = client.post(f"/v1/clients/{c.id}/agreements", json=bad, headers=office.headers)
        assert r.status_code == 422, r.text
    missing = client.post(f"/v1/agreements/{uuid.uuid4()}/approve", json={}, headers=office.headers)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "agreement_not_found")


def test_a_phone_proposal_approved_then_broken_then_caught_up(
    client: TestClient,
    session: Session,
    office: Login,
    phone: Phone,
    make_client,
    make_user: MakeUser,
    clock: FakeClock,
) -> None:
    c = make_client(collector=phone.user)
    agreement_id = propose(client, phone, c.id, clock)
    listed = client.get("/v1/agreements?status=proposed", headers=office.headers).json()
    assert [(a["id"], a["standing"], a["origin"]) for a in listed["items"]] == [
        (agreement_id, "proposed", "field")
    ]
    # The installment due five days ago is already past its grace: shown as missed.
    assert [i["status"] for i in listed["items"][0]["installments"]] == ["missed", "pending"]

    before = version(session, c.id)
    r = client.post(
        f"/v1/agreements/{agreement_id}/approve", json={"note": "ok"}, headers=office.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["standing"], r.json()["missed"]) == ("active", "broken", 1)
    assert r.json()["decision_note"] == "ok"
    assert version(session, c.id) == before + 1
    broken = client.get("/v1/agreements?standing=broken", headers=office.headers).json()
    assert [a["id"] for a in broken["items"]] == [agreement_id]

    # $150.000 collected today: the first installment paid, $50.000 ahead on the second.
    assert statuses(push(client, phone, [payment(phone, c.id, "150000.00")])) == [("applied", None)]
    got = client.get(f"/v1/agreements/{agreement_id}", headers=office.headers).json()
    assert got["standing"] == "on_track" and got["paid"] == "150000.00"
    assert [(i["status"], i["paid"]) for i in got["installments"]] == [
        ("paid", "100000.00"),
        ("partial", "50000.00"),
    ]
    assert client.get("/v1/agreements?standing=broken", headers=office.headers).json()["total"] == 0

    # The collector reads their own client's agreement; another collector gets 404.
    own = client.get(f"/v1/agreements/{agreement_id}", headers=phone.headers)
    assert own.status_code == 200 and own.json()["standing"] == "on_track"
    stranger = make_user("collector")
    other = client.get(f"/v1/agreements/{agreement_id}", headers=stranger.headers)
    assert (other.status_code, other.json()["error"]["code"]) == (404, "agreement_not_found")
    assert client.get("/v1/agreements", headers=stranger.headers).json()["items"] == []
    assert client.get("/v1/agreements", headers=phone.headers).json()["total"] == 1
    # ... and may not decide.
    no = client.post(f"/v1/agreements/{agreement_id}/cancel", json={}, headers=phone.headers)
    assert (no.status_code, no.json()["error"]["code"]) == (403, "insufficient_role")

    # Cancelled: no standing any more, and it cannot be cancelled twice.
    done = client.post(f"/v1/agreements/{agreement_id}/cancel", json={}, headers=office.headers)
    assert (done.json()["status"], done.json()["standing"]) == ("cancelled", None)
    twice = client.post(f"/v1/agreements/{agreement_id}/cancel", json={}, headers=office.headers)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "agreement_closed")
    assert audit(session) == ["agreement.approve", "agreement.cancel"]


def test_decisions_only_from_proposed_and_reject_needs_a_note(
    client: TestClient, session: Session, office: Login, phone: Phone, make_client, clock: FakeClock
) -> None:
    c = make_client(collector=phone.user)
    first = propose(client, phone, c.id, clock)
    second = propose(client, phone, c.id, clock)
    no_note = client.post(
        f"/v1/agreements/{first}/reject", json={"note": "  "}, headers=office.headers
    )
    assert (no_note.status_code, no_note.json()["error"]["code"]) == (422, "note_required")
    r = client.post(
        f"/v1/agreements/{first}/reject", json={"note": "cuotas muy altas"}, headers=office.headers
    )
    assert (r.json()["status"], r.json()["standing"], r.json()["decision_note"]) == (
        "rejected",
        None,
        "cuotas muy altas",
    )
    for action in ("approve", "reject"):
        late = client.post(
            f"/v1/agreements/{first}/{action}", json={"note": "x"}, headers=office.headers
        )
        assert (late.status_code, late.json()["error"]["code"]) == (409, "agreement_not_proposed")
    assert (
        client.post(f"/v1/agreements/{second}/approve", json={}, headers=office.headers).status_code
        == 200
    )
    # A third proposal cannot be approved while the second is active.
    third = propose(client, phone, c.id, clock)
    clash = client.post(f"/v1/agreements/{third}/approve", json={}, headers=office.headers)
    assert (clash.status_code, clash.json()["error"]["code"]) == (409, "agreement_already_active")
    assert audit(session) == ["agreement.reject", "agreement.approve"]
    # The list puts the proposal to decide first, then the broken active one, then the rest.
    order = [
        (a["id"], a["standing"])
        for a in client.get("/v1/agreements", headers=office.headers).json()["items"]
    ]
    assert order == [(third, "proposed"), (second, "broken"), (first, None)]
