"""Statement of account at a date: a worked example computed by hand.

Client C-STM with three invoices (all amounts in pesos):

    F-1  issued 2025-01-01, due 2025-01-31, 100 000
    F-2  issued 2025-02-01, due 2025-03-03, 250 000
    F-3  issued 2025-03-01, due 2025-03-31,  50 000

    2025-02-15  payment 120 000, oldest first  -> F-1 100 000 (settled), F-2 20 000
    2025-03-20  payment  30 000, chosen F-3    -> F-3 30 000
    2025-04-10  credit note -10 000 on F-2 ("Glosa aceptada")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api.deps import get_clock
from server.db.models import Client, Invoice, LedgerEntry
from server.services import ledger
from server.services.access import Actor
from server.services.statements import client_statement
from tests.server.conftest import Login

D = Decimal


@dataclass
class Worked:
    client: Client
    p1: LedgerEntry
    p2: LedgerEntry
    note: LedgerEntry
    owner: Login


def _invoice(
    session: Session, client: Client, number: str, issue: date, due: date, amount: int
) -> Invoice:
    invoice = Invoice(
        client_id=client.id, number=number, issue_date=issue, due_date=due, amount=D(amount)
    )
    ledger.post_charge(session, invoice, source="import")
    return invoice


@pytest.fixture
def worked(session: Session, make_user: Any, make_client: Any) -> Worked:
    owner = make_user("collector")
    client = make_client("C-STM", owner.user, name="Clínica San Rafael", tax_id="900.123.456-7")
    _invoice(session, client, "F-1", date(2025, 1, 1), date(2025, 1, 31), 100_000)
    f2 = _invoice(session, client, "F-2", date(2025, 2, 1), date(2025, 3, 3), 250_000)
    _invoice(session, client, "F-3", date(2025, 3, 1), date(2025, 3, 31), 50_000)
    p1 = ledger.post_payment(
        session,
        client_id=client.id,
        amount=D(120_000),
        effective_date=date(2025, 2, 15),
        source="sync",
    )
    p2 = ledger.post_payment(
        session,
        client_id=client.id,
        amount=D(30_000),
        effective_date=date(2025, 3, 20),
        source="sync",
        invoice_numbers=["F-3"],
    )
    note = ledger.post_adjustment(
        session,
        client_id=client.id,
        invoice_id=f2.id,
        amount=D(-10_000),
        effective_date=date(2025, 4, 10),
        reason="Glosa aceptada",
        source="manual",
    )
    session.commit()
    return Worked(client, p1, p2, note, owner)


def _get(client: TestClient, login: Login, worked: Worked, as_of: str | None = None) -> Any:
    params = {"as_of": as_of} if as_of else {}
    r = client.get(
        f"/v1/clients/{worked.client.id}/statement", params=params, headers=login.headers
    )
    assert r.status_code == 200, r.text
    return r.json()


def _lines(body: Any) -> list[tuple[str, str, str, str, list[str]]]:
    return [
        (e["date"], e["kind"], e["amount"], e["running_balance"], e["invoice_numbers"])
        for e in body["entries"]
    ]


def _invoices(body: Any) -> list[tuple[str, str, str, int]]:
    return [(i["number"], i["balance"], i["bucket"], i["days_past_due"]) for i in body["invoices"]]


def test_statement_at_end_of_march(client: TestClient, make_user: Any, worked: Worked) -> None:
    body = _get(client, make_user("supervisor"), worked, "2025-03-31")
    assert _lines(body) == [
        ("2025-01-01", "charge", "100000.00", "100000.00", ["F-1"]),
        ("2025-02-01", "charge", "250000.00", "350000.00", ["F-2"]),
        ("2025-02-15", "payment", "-120000.00", "230000.00", ["F-1", "F-2"]),
        ("2025-03-01", "charge", "50000.00", "280000.00", ["F-3"]),
        ("2025-03-20", "payment", "-30000.00", "250000.00", ["F-3"]),
    ]
    # F-2 is 28 days past due on March 31; F-3 falls due that very day.
    assert _invoices(body) == [("F-2", "230000.00", "1_30", 28), ("F-3", "20000.00", "al_dia", 0)]
    assert body["invoices"][0]["amount"] == "250000.00"
    assert (body["balance"], body["overdue_balance"], body["unapplied_credit"]) == (
        "250000.00",
        "230000.00",
        "0.00",
    )
    assert body["client"]["code"] == "C-STM"
    assert body["client"]["collector"] == worked.owner.user.username
    assert body["entries"][0]["reason"] == "Factura F-1"
    assert body["entries"][0]["source"] == "import"


def test_statement_before_f2_falls_due(client: TestClient, make_user: Any, worked: Worked) -> None:
    body = _get(client, make_user("admin"), worked, "2025-02-20")
    assert [line[3] for line in _lines(body)] == ["100000.00", "350000.00", "230000.00"]
    # F-1 was settled by the payment, so only F-2 is open, 11 days before its due date.
    assert _invoices(body) == [("F-2", "230000.00", "al_dia", -11)]
    assert body["overdue_balance"] == "0.00"


def test_statement_in_june_ages_both_invoices(
    client: TestClient, make_user: Any, worked: Worked
) -> None:
    body = _get(client, make_user("supervisor"), worked, "2025-06-01")
    assert _lines(body)[-1] == ("2025-04-10", "adjustment", "-10000.00", "240000.00", ["F-2"])
    assert body["entries"][-1]["reason"] == "Glosa aceptada"
    # March 3 -> June 1 is 90 days; March 31 -> June 1 is 62 days.
    assert _invoices(body) == [("F-2", "220000.00", "61_90", 90), ("F-3", "20000.00", "61_90", 62)]
    assert (body["balance"], body["overdue_balance"]) == ("240000.00", "240000.00")


def test_overpayment_is_unapplied_credit_and_history_stays(
    session: Session, client: TestClient, make_user: Any, worked: Worked
) -> None:
    ledger.post_payment(
        session,
        client_id=worked.client.id,
        amount=D(300_000),
        effective_date=date(2025, 6, 5),
        source="sync",
    )
    session.commit()
    office = make_user("supervisor")
    body = _get(client, office, worked, "2025-06-05")
    assert _lines(body)[-1] == ("2025-06-05", "payment", "-300000.00", "-60000.00", ["F-2", "F-3"])
    assert body["invoices"] == []
    assert (body["balance"], body["unapplied_credit"]) == ("-60000.00", "60000.00")
    # A statement at an earlier date is what it was: the later payment is not in it.
    assert _get(client, office, worked, "2025-06-01")["balance"] == "240000.00"


def test_reversal_restores_the_invoice_balances(
    session: Session, client: TestClient, make_user: Any, worked: Worked
) -> None:
    ledger.post_payment(
        session,
        client_id=worked.client.id,
        amount=D(300_000),
        effective_date=date(2025, 6, 5),
        source="sync",
    )
    reversal = ledger.reverse_entry(
        session,
        worked.p1.id,
        reason="Cheque devuelto",
        effective_date=date(2025, 6, 10),
        source="manual",
    )
    session.commit()
    body = _get(client, make_user("supervisor"), worked, "2025-06-10")
    last = body["entries"][-1]
    assert (last["kind"], last["amount"], last["running_balance"]) == (
        "reversal",
        "120000.00",
        "60000.00",
    )
    assert (last["invoice_numbers"], last["reverses_id"]) == (["F-1", "F-2"], str(worked.p1.id))
    assert last["id"] == str(reversal.id)
    # F-1 is open again (130 days past due), F-2 got its 20 000 back (99 days past due); the
    # overpayment stays as credit: 100 000 + 20 000 - 60 000 = 60 000.
    assert _invoices(body) == [
        ("F-1", "100000.00", "91_180", 130),
        ("F-2", "20000.00", "91_180", 99),
    ]
    assert (body["balance"], body["unapplied_credit"]) == ("60000.00", "60000.00")


def test_statement_defaults_to_today_in_the_business_timezone(
    app: FastAPI, client: TestClient, make_user: Any, worked: Worked
) -> None:
    # 04:30 UTC on April 1 is still 23:30 on March 31 in Bogotá.
    app.dependency_overrides[get_clock] = lambda: lambda: datetime(2025, 4, 1, 4, 30, tzinfo=UTC)
    body = _get(client, make_user("supervisor"), worked)
    assert body["as_of"] == "2025-03-31"
    assert body["balance"] == "250000.00"


def test_collector_reads_only_their_own_statements(
    client: TestClient, make_user: Any, worked: Worked
) -> None:
    assert _get(client, worked.owner, worked, "2025-03-31")["balance"] == "250000.00"
    r = client.get(
        f"/v1/clients/{worked.client.id}/statement", headers=make_user("collector").headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "client_not_found")


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/v1/clients/not-a-uuid/statement", {}, 422, "invalid_input"),
        ("/v1/clients/00000000-0000-0000-0000-000000000000/statement", {}, 404, "client_not_found"),
        ("/v1/clients/{id}/statement", {"as_of": "2025-02-30"}, 422, "invalid_input"),
        ("/v1/clients/{id}/statement", {"as_of": "31/03/2025"}, 422, "invalid_input"),
    ],
)
def test_bad_input_is_a_clean_error(
    client: TestClient,
    make_user: Any,
    worked: Worked,
    path: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    r = client.get(
        path.format(id=worked.client.id), params=params, headers=make_user("admin").headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)


def test_statement_requires_a_login(client: TestClient, worked: Worked) -> None:
    r = client.get(f"/v1/clients/{worked.client.id}/statement")
    assert r.status_code == 401


def test_service_statement_matches_projection(
    session: Session, make_user: Any, worked: Worked
) -> None:
    office = make_user("admin").user
    actor = Actor(user_id=office.id, username=office.username, role="admin")
    statement = client_statement(session, actor, worked.client.id, as_of=date(2030, 1, 1))
    projected = session.execute(
        select(Invoice.number, Invoice.balance)
        .where(Invoice.client_id == worked.client.id, Invoice.balance != D(0))
        .order_by(Invoice.due_date)
    ).all()
    assert [(i.number, i.balance) for i in statement.invoices] == [tuple(r) for r in projected]
    balance = session.scalar(select(Client.balance).where(Client.id == worked.client.id))
    assert statement.balance == balance == D("240000.00")
