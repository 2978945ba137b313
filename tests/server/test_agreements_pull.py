"""ClientData.agreements in the pull (server/services/pull_data.py -> agreements.for_phones): the
proposed and active agreements of each client with standing and installment statuses at the pull's
business date, a fresh put after every office decision, and a constant number of queries a page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from shared.agreements import Installment, compliance_of_paid
from sync.protocol import ClientData, PullResponse
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
def phone(client: TestClient, make_user: MakeUser) -> Phone:
    return register_phone(client, make_user("collector"))


@pytest.fixture
def office(make_user: MakeUser) -> Login:
    return make_user("supervisor")


def today(clock: FakeClock) -> date:
    return clock.now.astimezone(BOGOTA).date()


def drain(
    client: TestClient, phone: Phone, cursor: str | None = None
) -> tuple[dict[str, ClientData], str]:
    """The latest data of each client put since `cursor`, and the cursor after the last page."""
    data: dict[str, ClientData] = {}
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        r = client.get("/v1/sync/pull", params=params, headers=phone.headers)
        assert r.status_code == 200, r.text
        page = PullResponse.model_validate(r.json())
        for ch in page.changes:
            if ch.entity == "client" and ch.op == "put" and ch.data is not None:
                data[ch.id] = ClientData.model_validate(ch.data)
        cursor = page.next_cursor
        if not page.has_more:
            return data, cursor


def propose(client: TestClient, phone: Phone, client_id: uuid.UUID, clock: FakeClock) -> str:
    """Proposed a week ago: $100.000 due five days ago, $200.000 due in twenty days."""
    day = today(clock)
    payload = {
        "installments": [
            {"due_date": (day - timedelta(days=5)).isoformat(), "amount": "100000.00"},
            {"due_date": (day + timedelta(days=20)).isoformat(), "amount": "200000.00"},
        ]
    }
    ev = event(
        phone,
        "agreement.proposed",
        client_id,
        payload,
        device_time=(clock.now - timedelta(days=7)).isoformat(),
    )
    assert statuses(push(client, phone, [ev])) == [("applied", None)]
    return str(ev["event_id"])


def shown(data: ClientData) -> list[tuple[str, str, list[tuple[str, Decimal]]]]:
    return [
        (str(a.id), a.standing, [(i.status, i.paid) for i in a.installments])
        for a in data.agreements
    ]


def test_the_phone_sees_its_proposal_then_the_decisions_and_the_payments(
    client: TestClient, phone: Phone, office: Login, make_client, clock: FakeClock
) -> None:
    c = make_client(collector=phone.user)
    _, cursor = drain(client, phone)
    agreement_id = propose(client, phone, c.id, clock)
    data, cursor = drain(client, phone, cursor)
    assert shown(data[str(c.id)]) == [
        (agreement_id, "proposed", [("missed", D(0)), ("pending", D(0))])
    ]
    assert data[str(c.id)].agreements[0].total == D("300000.00")

    r = client.post(f"/v1/agreements/{agreement_id}/approve", json={}, headers=office.headers)
    assert r.status_code == 200, r.text
    data, cursor = drain(client, phone, cursor)
    assert shown(data[str(c.id)]) == [
        (agreement_id, "broken", [("missed", D(0)), ("pending", D(0))])
    ]

    assert statuses(push(client, phone, [payment(phone, c.id, "120000.00")])) == [("applied", None)]
    data, cursor = drain(client, phone, cursor)
    got = data[str(c.id)]
    assert shown(got) == [
        (agreement_id, "on_track", [("paid", D("100000.00")), ("partial", D("20000.00"))])
    ]
    # The phone recomputes at a later date from what the put carries (shared.agreements): with
    # nothing more paid, the second installment is missed the day after its grace.
    (a,) = got.agreements
    plan = [Installment(i.due_date, i.amount) for i in a.installments]
    paid = sum((i.paid for i in a.installments), D(0))
    later = today(clock) + timedelta(days=22)
    assert compliance_of_paid(plan, paid, later).standing == "broken"
    assert compliance_of_paid(plan, paid + D(180000), later).standing == "completed"

    r = client.post(f"/v1/agreements/{agreement_id}/cancel", json={}, headers=office.headers)
    assert r.status_code == 200, r.text
    data, _ = drain(client, phone, cursor)
    assert data[str(c.id)].agreements == ()
    assert "agreements" not in data[str(c.id)].model_dump(exclude_defaults=True)


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    sa_event.listen(engine, "before_cursor_execute", count)
    yield seen
    sa_event.remove(engine, "before_cursor_execute", count)


def test_a_page_reads_agreements_with_the_same_queries_for_one_client_or_many(
    client: TestClient,
    phone: Phone,
    make_user: MakeUser,
    make_client,
    clock: FakeClock,
    statements: list[str],
) -> None:
    def first_sync_statements(clients: int) -> int:
        p = register_phone(client, make_user("collector"))
        for _ in range(clients):
            propose(client, p, make_client(collector=p.user).id, clock)
        statements.clear()
        data, _ = drain(client, p)
        assert len(data) == clients and all(d.agreements for d in data.values())
        return len(statements)

    one, six = first_sync_statements(1), first_sync_statements(6)
    assert one == six and one > 0
