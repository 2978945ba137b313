"""Reconciliations (conciliaciones): the agenda, recording one once with our balance from the
ledger at `as_of`, the differences and the notes applied, and its export as PDF and XLSX.
Worked example by hand on both engines: the client's statement says 750.000, ours 800.000 ->
difference 50.000; a credit note of 50.000 applied -> 750.000."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Client, CreditNote, Invoice, ReconciliationItem
from server.services import ledger
from shared.calendar import business_date
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import MakeUser, invoice

D = Decimal


@pytest.fixture
def office(make_user: MakeUser) -> Login:
    return make_user("supervisor")


def _schedule(client: TestClient, office: Login, c: Client, day: date) -> dict[str, Any]:
    r = client.post(
        f"/v1/clients/{c.id}/reconciliations",
        headers=office.headers,
        json={"scheduled_for": day.isoformat(), "notes": "cruce de cartera trimestral"},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _pay(session: Session, c: Client, amount: str, day: date) -> None:
    ledger.post_payment(
        session, client_id=c.id, amount=D(amount), effective_date=day, source="manual"
    )
    session.commit()


def test_worked_example_statement_750000_vs_ours_800000(
    client: TestClient, session: Session, make_client: Any, office: Login, clock: FakeClock
) -> None:
    today = business_date(clock(), client.app.state.settings.tz)  # type: ignore[attr-defined]
    c = make_client(name="Clínica San Rafael")
    inv = invoice(session, c, "FE-9000", today - timedelta(days=40), "1000000.00")
    _pay(session, c, "200000.00", today - timedelta(days=10))  # ours: 800.000
    _pay(session, c, "1.00", today)  # after as_of: not in our balance at as_of
    rec = _schedule(client, office, c, today + timedelta(days=3))
    assert (rec["status"], rec["our_balance"]) == ("scheduled", None)

    as_of = today - timedelta(days=1)
    r = client.post(
        f"/v1/reconciliations/{rec['id']}/complete",
        headers=office.headers,
        json={
            "as_of": as_of.isoformat(),
            "client_balance": "750000.00",
            "statement_ref": "Estado de cuenta EPS 2026-11",
            "items": [
                {
                    "invoice_number": "FE-9000",
                    "description": "El cliente descontó una glosa por tarifas",
                    "our_amount": "800000.00",
                    "their_amount": "750000.00",
                    "resolution": "credit_note",
                }
            ],
            "notes_to_apply": [
                {
                    "kind": "credit_note",
                    "invoice_number": "FE-9000",
                    "amount": "50000.00",
                    "reason_code": "tariffs",
                    "reason": "Diferencia de tarifa reconocida en la conciliación",
                    "item": 0,
                }
            ],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["our_balance"], body["client_balance"], body["difference"]) == (
        "done",
        "800000.00",
        "750000.00",
        "50000.00",
    )
    assert (body["notes_total"], body["adjusted_balance"], body["remaining_difference"]) == (
        "-50000.00",
        "750000.00",
        "0.00",
    )
    assert body["completed_by"] == office.user.username
    [note] = body["credit_notes"]
    assert (note["amount"], note["invoice_number"], note["approved_by"]) == (
        "-50000.00",
        "FE-9000",
        office.user.username,
    )
    assert body["items"][0]["credit_note_id"] == note["id"]
    session.expire_all()
    # 1.000.000 - 200.000 - 1 - 50.000 on the books now.
    assert session.get(Invoice, inv.id).balance == D("749999.00")  # type: ignore[union-attr]
    row = session.scalars(select(CreditNote).where(CreditNote.client_id == c.id)).one()
    assert row.reconciliation_id == uuid.UUID(rec["id"]) and row.approved_by == office.user.id
    item = session.scalars(
        select(ReconciliationItem).where(
            ReconciliationItem.reconciliation_id == row.reconciliation_id
        )
    ).one()
    assert item.credit_note_id == row.id
    actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_id == rec["id"])).all()
    assert sorted(actions) == ["reconciliation.complete", "reconciliation.schedule"]

    again = client.post(
        f"/v1/reconciliations/{rec['id']}/complete",
        headers=office.headers,
        json={"as_of": as_of.isoformat(), "client_balance": "1.00"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "reconciliation_closed"

    pdf = client.get(
        f"/v1/reconciliations/{rec['id']}", headers=office.headers, params={"format": "pdf"}
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"conciliacion_{c.code}_{as_of.isoformat()}.pdf" in pdf.headers["content-disposition"]
    xlsx = client.get(
        f"/v1/reconciliations/{rec['id']}",
        headers={
            **office.headers,
            "Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
    )
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Resumen", "Diferencias", "Notas aplicadas"]
    values = [c.value for row in book["Resumen"].iter_rows() for c in row if c.value is not None]
    assert D("800000") in values and D("750000") in values and D("-50000") in values
    notes = [c.value for row in book["Notas aplicadas"].iter_rows() for c in row]
    assert "Diferencia de tarifa reconocida en la conciliación" in notes


def test_the_agenda_lists_upcoming_ones_by_date(
    client: TestClient, make_client: Any, office: Login
) -> None:
    a, b = make_client(), make_client()
    later = _schedule(client, office, a, date(2031, 3, 20))
    sooner = _schedule(client, office, b, date(2031, 3, 5))
    outside = _schedule(client, office, b, date(2031, 5, 1))
    r = client.get(
        "/v1/reconciliations",
        headers=office.headers,
        params={"status": "scheduled", "from": "2031-03-01", "to": "2031-03-31"},
    )
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [sooner["id"], later["id"]]
    assert outside["id"] not in r.text
    bad = client.get(
        "/v1/reconciliations",
        headers=office.headers,
        params={"from": "2031-03-31", "to": "2031-03-01"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_period"


@pytest.mark.parametrize(
    ("note", "code"),
    [
        ({"kind": "credit_note", "invoice_number": "FE-NO", "amount": "1.00"}, "invoice_not_found"),
        (
            {"kind": "credit_note", "invoice_number": "FE-1", "amount": "100.01"},
            "note_exceeds_balance",
        ),
        ({"kind": "credit_note", "invoice_number": "FE-1", "amount": "-5.00"}, "invalid_amount"),
        ({"kind": "adjustment", "amount": "0.00"}, "invalid_amount"),
        ({"kind": "adjustment", "amount": "-5.00", "reason_code": "mood"}, "invalid_reason_code"),
        ({"kind": "adjustment", "amount": "-5.00", "reason": "  "}, "reason_required"),
        ({"kind": "adjustment", "amount": "-5.00", "item": 3}, "invalid_item"),
    ],
)
def test_a_bad_note_changes_nothing(
    client: TestClient,
    session: Session,
    make_client: Any,
    office: Login,
    note: dict[str, Any],
    code: str,
) -> None:
    c = make_client()
    invoice(session, c, "FE-1", date(2026, 1, 31), "100.00")
    rec = _schedule(client, office, c, date(2026, 2, 1))
    full = {"reason_code": "reconciliation", "reason": "cruce", **note}
    r = client.post(
        f"/v1/reconciliations/{rec['id']}/complete",
        headers=office.headers,
        json={"as_of": "2026-02-01", "client_balance": "90.00", "notes_to_apply": [full]},
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code
    session.expire_all()
    assert session.get(Client, c.id).balance == D("100.00")  # type: ignore[union-attr]
    assert (
        client.get(f"/v1/reconciliations/{rec['id']}", headers=office.headers).json()["status"]
        == "scheduled"
    )


def test_two_notes_on_one_invoice_cannot_take_it_below_zero_and_as_of_is_not_future(
    client: TestClient, session: Session, make_client: Any, office: Login, clock: FakeClock
) -> None:
    c = make_client()
    invoice(session, c, "FE-2", date(2026, 1, 31), "100.00")
    rec = _schedule(client, office, c, date(2026, 2, 1))
    note = {
        "kind": "credit_note",
        "invoice_number": "FE-2",
        "amount": "60.00",
        "reason_code": "billing",
        "reason": "doble cobro",
    }
    url = f"/v1/reconciliations/{rec['id']}/complete"
    r = client.post(
        url,
        headers=office.headers,
        json={"as_of": "2026-02-01", "client_balance": "0.00", "notes_to_apply": [note, note]},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "note_exceeds_balance"
    tomorrow = business_date(clock(), client.app.state.settings.tz) + timedelta(days=1)  # type: ignore[attr-defined]
    r = client.post(
        url, headers=office.headers, json={"as_of": tomorrow.isoformat(), "client_balance": "0.00"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_as_of"
    # An adjustment on the account (no invoice) may raise the debt: a charge we missed.
    up = {
        "kind": "adjustment",
        "amount": "25.00",
        "reason_code": "reconciliation",
        "reason": "intereses pactados no cargados",
    }
    r = client.post(
        url,
        headers=office.headers,
        json={"as_of": "2026-02-01", "client_balance": "125.00", "notes_to_apply": [up]},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["adjusted_balance"], r.json()["remaining_difference"]) == ("125.00", "0.00")


def test_collectors_and_unknown_ids(
    client: TestClient, make_client: Any, make_user: MakeUser, office: Login
) -> None:
    collector = make_user("collector")
    c = make_client(collector=collector.user)
    r = client.post(
        f"/v1/clients/{c.id}/reconciliations",
        headers=collector.headers,
        json={"scheduled_for": "2026-12-01"},
    )
    assert r.status_code == 403
    missing = client.get(f"/v1/reconciliations/{uuid.uuid4()}", headers=office.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "reconciliation_not_found"
    nobody = client.post(
        f"/v1/clients/{uuid.uuid4()}/reconciliations",
        headers=office.headers,
        json={"scheduled_for": "2026-12-01"},
    )
    assert nobody.status_code == 404 and nobody.json()["error"]["code"] == "client_not_found"
