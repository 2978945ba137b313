"""Cobro jurídico: law firms, referrals and their updates, the suggestion, the legal KPI and the
phone's `legal` flag. Worked example; the server's clock reads Friday 2026-11-20 12:00 (Bogotá).

L1 ana   L1-A due 2026-03-01 1 000 000 (264 days past due), L1-B due 2026-10-01 400 000
         promises due 10-05 and 10-25, nothing paid: 2 broken            -> suggested
L2 ana   L2-A due 2026-03-01   500 000; one broken promise               -> not suggested (1 < 2)
L3 beto  L3-A due 2026-09-01   700 000 (80 days); two broken promises    -> not suggested (80 < 180)
L4 beto  nothing owed                                                    -> nothing to refer
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Client, Invoice
from server.services import ledger
from sync.protocol import ClientData
from tests.server.conftest import FakeClock
from tests.server.sync_helpers import Phone, event, push, register_phone, statuses
from tests.server.test_sync_pull import drain

BOGOTA = ZoneInfo("America/Bogota")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=BOGOTA)
D = Decimal


def _invoice(session: Session, c: Client, number: str, due: date, amount: int) -> None:
    inv = Invoice(
        client_id=c.id, number=number, issue_date=due - timedelta(days=30), due_date=due,
        amount=D(amount),
    )  # fmt: skip
    ledger.post_charge(session, inv, source="import")
    session.commit()


def _promise(phone: Phone, c: Client, made: str, due: str) -> dict[str, Any]:
    moment = datetime.fromisoformat(f"{made}T09:00:00").replace(tzinfo=BOGOTA).isoformat()
    return event(
        phone, "promise.made", c.id, {"amount": "100000.00", "due_date": due}, device_time=moment
    )


@pytest.fixture
def world(
    client: TestClient, session: Session, make_user: Any, make_client: Any, clock: FakeClock
) -> dict[str, Any]:
    clock.now = NOW
    ana, beto = make_user("collector", "ana"), make_user("collector", "beto")
    sup = make_user("supervisor", "sonia")
    l1 = make_client("L1", ana.user, name="Ferretería Uno", tax_id="900100200")
    l2 = make_client("L2", ana.user, name="Droguería Dos")
    l3 = make_client("L3", beto.user, name="Tienda Tres")
    l4 = make_client("L4", beto.user, name="Café Cuatro")
    _invoice(session, l1, "L1-A", date(2026, 3, 1), 1_000_000)
    _invoice(session, l1, "L1-B", date(2026, 10, 1), 400_000)
    _invoice(session, l2, "L2-A", date(2026, 3, 1), 500_000)
    _invoice(session, l3, "L3-A", date(2026, 9, 1), 700_000)
    pa, pb = register_phone(client, ana), register_phone(client, beto)
    ok = push(
        client,
        pa,
        [
            _promise(pa, l1, "2026-10-01", "2026-10-05"),
            _promise(pa, l1, "2026-10-20", "2026-10-25"),
            _promise(pa, l2, "2026-10-20", "2026-10-25"),
        ],
    )
    assert {s for s, _ in statuses(ok)} == {"applied"}
    ok = push(
        client,
        pb,
        [
            _promise(pb, l3, "2026-10-01", "2026-10-05"),
            _promise(pb, l3, "2026-10-20", "2026-10-25"),
        ],
    )
    assert {s for s, _ in statuses(ok)} == {"applied"}
    h = sup.headers
    firm = client.post("/v1/law-firms", json={"name": "Abogados Asociados SAS"}, headers=h)
    assert firm.status_code == 201, firm.text
    return {
        "h": h, "ana": ana, "phone_a": pa, "l1": l1, "l2": l2, "l3": l3, "l4": l4,
        "firm": firm.json()["id"],
    }  # fmt: skip


def _refer(client: TestClient, w: dict[str, Any], c: Client, **body: Any) -> Any:
    payload = {"law_firm_id": w["firm"], "reason": "Mora de más de 180 días", **body}
    return client.post(f"/v1/clients/{c.id}/legal-referrals", json=payload, headers=w["h"])


def _code(r: Any) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def test_law_firm_directory(client: TestClient, world: dict[str, Any], make_user: Any) -> None:
    h = world["h"]
    same = client.post("/v1/law-firms", json={"name": "abogados asociados sas"}, headers=h)
    assert _code(same) == (409, "law_firm_exists")
    other = client.post(
        "/v1/law-firms", json={"name": "Jurídica del Norte", "email": "n@x.co"}, headers=h
    ).json()
    off = client.patch(f"/v1/law-firms/{other['id']}", json={"active": False}, headers=h)
    assert off.status_code == 200 and off.json()["active"] is False
    names = [f["name"] for f in client.get("/v1/law-firms", headers=h).json()]
    assert names == ["Abogados Asociados SAS", "Jurídica del Norte"]
    active = client.get("/v1/law-firms", params={"active": "true"}, headers=h).json()
    assert [f["name"] for f in active] == ["Abogados Asociados SAS"]
    refused = _refer(client, world, world["l1"], law_firm_id=other["id"])
    assert _code(refused) == (422, "law_firm_inactive")
    collector = make_user("collector")
    assert client.get("/v1/law-firms", headers=collector.headers).status_code == 403


def test_referring_a_whole_client_and_by_invoices(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    r = _refer(client, world, world["l1"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["amount"], body["status"], body["invoice_numbers"]) == (
        "1400000.00",
        "referred",
        [],
    )
    assert body["history"][0]["status"] == "referred"
    assert _code(_refer(client, world, world["l1"])) == (409, "referral_open")
    # Some invoices: the amount is theirs; another client's invoice is refused.
    assert _code(_refer(client, world, world["l2"], invoice_numbers=["L1-A"])) == (
        422,
        "unknown_invoice",
    )
    by_invoice = _refer(client, world, world["l2"], invoice_numbers=["L2-A"])
    assert by_invoice.status_code == 201 and by_invoice.json()["amount"] == "500000.00"
    assert _code(_refer(client, world, world["l4"])) == (422, "nothing_to_refer")
    audit = session.scalars(select(AuditLog.action).where(AuditLog.action == "legal.refer")).all()
    assert len(audit) == 2


def test_updates_to_an_outcome(client: TestClient, world: dict[str, Any]) -> None:
    h = world["h"]
    rid = _refer(client, world, world["l1"]).json()["id"]
    url = f"/v1/legal-referrals/{rid}/updates"
    step = client.post(url, json={"status": "in_progress", "note": "Demanda radicada"}, headers=h)
    assert step.status_code == 200 and step.json()["status"] == "in_progress"
    assert _code(client.post(url, json={"status": "closed"}, headers=h)) == (
        422,
        "outcome_required",
    )
    wrong = client.post(url, json={"status": "in_progress", "outcome": "recovered"}, headers=h)
    assert _code(wrong) == (422, "outcome_not_allowed")
    done = client.post(url, json={"status": "closed", "outcome": "agreement"}, headers=h).json()
    assert (done["status"], done["outcome"], done["positive"]) == ("closed", "agreement", True)
    detail = client.get(f"/v1/legal-referrals/{rid}", headers=h).json()
    assert [(u["status"], u["note"]) for u in detail["history"]] == [
        ("referred", "Mora de más de 180 días"),
        ("in_progress", "Demanda radicada"),
        ("closed", ""),
    ]
    assert _code(client.post(url, json={"status": "in_progress"}, headers=h)) == (
        409,
        "referral_closed",
    )
    # Closed: the client may be referred again.
    assert _refer(client, world, world["l1"]).status_code == 201
    listed = client.get("/v1/legal-referrals", params={"status": "closed"}, headers=h).json()
    assert [i["id"] for i in listed["items"]] == [rid]
    by_outcome = client.get("/v1/legal-referrals", params={"outcome": "negative"}, headers=h)
    assert by_outcome.json()["total"] == 0
    by_firm = client.get("/v1/legal-referrals", params={"firm": world["firm"]}, headers=h)
    assert by_firm.json()["total"] == 2
    missing = client.get("/v1/legal-referrals/00000000-0000-0000-0000-000000000000", headers=h)
    assert _code(missing) == (404, "referral_not_found")


def test_suggested_clients_with_the_reasons(client: TestClient, world: dict[str, Any]) -> None:
    h = world["h"]
    found = client.get("/v1/legal-referrals/suggested", headers=h).json()
    assert (found["min_days_past_due"], found["min_broken_promises"]) == (180, 2)
    assert [
        (i["code"], i["oldest_days_past_due"], i["broken_promises"]) for i in found["items"]
    ] == [("L1", 264, 2)]
    item = found["items"][0]
    assert item["overdue_balance"] == "1400000.00"
    assert [r["code"] for r in item["reasons"]] == ["aging", "broken_promises"]
    assert "264 días" in item["reasons"][0]["text"]
    _refer(client, world, world["l1"])
    assert client.get("/v1/legal-referrals/suggested", headers=h).json()["items"] == []


def test_legal_kpi_counts_referred_closed_and_positive(
    client: TestClient, world: dict[str, Any]
) -> None:
    h = world["h"]
    for c, outcome in ((world["l1"], "recovered"), (world["l2"], "negative")):
        rid = _refer(client, world, c).json()["id"]
        client.post(
            f"/v1/legal-referrals/{rid}/updates",
            json={"status": "closed", "outcome": outcome},
            headers=h,
        )
    _refer(client, world, world["l3"])  # still open
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    legal = client.get("/v1/reports/kpis", params=period, headers=h).json()["legal"]
    assert (legal["referred"], legal["closed"], legal["resolved_positive"]) == (3, 2, 1)
    assert legal["positive_resolution_pct"] == "50.00"
    assert "3 caso(s) remitido(s)" in legal["note"]
    ana = client.get("/v1/reports/kpis", params={**period, "collector": "ana"}, headers=h).json()
    assert (ana["legal"]["referred"], ana["legal"]["closed"]) == (2, 2)
    before = client.get(
        "/v1/reports/kpis", params={"from": "2026-10-01", "to": "2026-10-31"}, headers=h
    ).json()["legal"]
    assert (before["referred"], before["positive_resolution_pct"]) == (0, None)


def test_the_phone_sees_the_client_in_legal_until_closed(
    client: TestClient, world: dict[str, Any]
) -> None:
    phone: Phone = world["phone_a"]
    _, first, _ = drain(client, phone)
    rid = _refer(client, world, world["l1"]).json()["id"]
    seen, last, _ = drain(client, phone, first.next_cursor)
    (put,) = [ch for ch in seen if ch.entity == "client"]
    assert put.id == str(world["l1"].id)
    assert ClientData.model_validate(put.data).legal is True
    client.post(
        f"/v1/legal-referrals/{rid}/updates",
        json={"status": "closed", "outcome": "negative"},
        headers=world["h"],
    )
    seen, _, _ = drain(client, phone, last.next_cursor)
    (put,) = [ch for ch in seen if ch.entity == "client"]
    assert "legal" not in put.data and ClientData.model_validate(put.data).legal is False
