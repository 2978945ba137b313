"""Where open disputes show: aging keeps them apart ("en glosa": still owed, not collectable),
the KPI report counts the disputed value, and the collector's phone gets them in the client's
data. Worked by hand on both engines."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shared.calendar import business_date
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import MakeUser, Phone, event, invoice, push, register_phone


@pytest.fixture
def phone(client: TestClient, make_user: MakeUser) -> Phone:
    return register_phone(client, make_user("collector"))


@pytest.fixture
def office(make_user: MakeUser) -> Login:
    return make_user("supervisor")


def _today(client: TestClient, clock: FakeClock) -> date:
    return business_date(clock(), client.app.state.settings.tz)  # type: ignore[attr-defined]


def _dispute(client: TestClient, phone: Phone, client_id: object, number: str, amount: str) -> str:
    e = event(
        phone,
        "dispute.opened",
        str(client_id),
        {"invoice_number": number, "amount": amount, "reason_code": "supports"},
    )
    r = push(client, phone, [e])
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text
    return str(e["event_id"])


def test_aging_shows_open_disputes_apart_until_decided(
    client: TestClient,
    session: Session,
    make_client: Any,
    phone: Phone,
    office: Login,
    clock: FakeClock,
) -> None:
    today = _today(client, clock)
    c = make_client(collector=phone.user)
    invoice(session, c, "FE-A1", today - timedelta(days=45), "1000000.00")  # 31-60
    invoice(session, c, "FE-A2", today, "400000.00")  # al día (due today)
    first = _dispute(client, phone, c.id, "FE-A1", "300000.00")
    _dispute(client, phone, c.id, "FE-A2", "100000.00")
    params = {"as_of": today.isoformat(), "collector": phone.user.username}
    r = client.get("/v1/reports/aging", headers=office.headers, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == "1400000.00"  # the debt still stands
    assert (body["disputed"]["31_60"], body["disputed"]["al_dia"], body["disputed"]["1_30"]) == (
        "300000.00",
        "100000.00",
        "0.00",
    )
    assert (body["disputed_total"], body["collectable"]) == ("400000.00", "1000000.00")
    assert body["invoice_count"] == 2  # dispute rows are not invoices
    [row] = body["by_collector"]
    assert (row["collector"], row["disputed_total"]) == (phone.user.username, "400000.00")
    # Yesterday nothing was in dispute yet.
    yesterday = {**params, "as_of": (today - timedelta(days=1)).isoformat()}
    before = client.get("/v1/reports/aging", headers=office.headers, params=yesterday).json()
    assert before["disputed_total"] == "0.00" and before["collectable"] == before["net_balance"]

    r = client.post(
        f"/v1/disputes/{first}/accept",
        headers=office.headers,
        json={"accepted_amount": "200000.00"},
    )
    assert r.status_code == 200, r.text
    after = client.get("/v1/reports/aging", headers=office.headers, params=params).json()
    assert (after["total"], after["disputed_total"], after["collectable"]) == (
        "1200000.00",
        "100000.00",
        "1100000.00",
    )


def test_kpis_count_the_disputed_value(
    client: TestClient,
    session: Session,
    make_client: Any,
    phone: Phone,
    office: Login,
    clock: FakeClock,
) -> None:
    today = _today(client, clock)
    c = make_client(collector=phone.user)
    invoice(session, c, "FE-K1", today - timedelta(days=20), "900000.00")
    accepted = _dispute(client, phone, c.id, "FE-K1", "300000.00")
    rejected = _dispute(client, phone, c.id, "FE-K1", "200000.00")
    _dispute(client, phone, c.id, "FE-K1", "150000.00")  # stays open
    client.post(
        f"/v1/disputes/{accepted}/accept",
        headers=office.headers,
        json={"accepted_amount": "120000.00"},
    )
    client.post(f"/v1/disputes/{rejected}/reject", headers=office.headers, json={"note": "no"})
    period = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    r = client.get(
        "/v1/reports/kpis",
        headers=office.headers,
        params={**period, "collector": phone.user.username},
    )
    assert r.status_code == 200, r.text
    assert r.json()["disputes"] == {
        "open_at_end": 1,
        "disputed_value": "150000.00",
        "opened": 3,
        "opened_value": "650000.00",
        "accepted": 1,
        "accepted_value": "120000.00",
        "rejected": 1,
    }
    # Another segment's report does not see them.
    other = client.get(
        "/v1/reports/kpis", headers=office.headers, params={**period, "segment": "grupo"}
    ).json()["disputes"]
    assert (other["opened"], other["disputed_value"]) == (0, "0.00")


def test_the_phone_gets_the_open_disputes_and_loses_them_once_decided(
    client: TestClient,
    session: Session,
    make_client: Any,
    phone: Phone,
    office: Login,
    clock: FakeClock,
) -> None:
    today = _today(client, clock)
    c = make_client(collector=phone.user)
    invoice(session, c, "FE-P1", today - timedelta(days=5), "500000.00")
    dispute_id = _dispute(client, phone, c.id, "FE-P1", "50000.00")

    def data() -> tuple[dict[str, Any], str]:
        r = client.get("/v1/sync/pull", params={"limit": 50}, headers=phone.headers)
        assert r.status_code == 200, r.text
        puts = [ch for ch in r.json()["changes"] if ch.get("id") == str(c.id)]
        assert puts, r.text
        return puts[-1]["data"], r.json()["next_cursor"]

    first, cursor = data()
    assert first["disputes"] == [
        {
            "id": dispute_id,
            "invoice_number": "FE-P1",
            "amount": "50000.00",
            "reason_code": "supports",
        }
    ]
    r = client.post(f"/v1/disputes/{dispute_id}/reject", headers=office.headers, json={"note": "x"})
    assert r.status_code == 200
    later = client.get("/v1/sync/pull", params={"cursor": cursor}, headers=phone.headers)
    assert later.status_code == 200, later.text
    puts = [ch for ch in later.json()["changes"] if ch.get("id") == str(c.id)]
    assert puts and "disputes" not in puts[-1]["data"]
