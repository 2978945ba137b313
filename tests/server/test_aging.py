"""Aging report at a date, rebuilt from the ledger; a worked example computed by hand.

K1 grupo       ana   G-1 issued 2025-02-01, due 2025-03-01, 100 000
                     G-2 issued 2025-04-15, due 2025-05-15,  40 000
K2 particular  beto  P-1 issued 2024-04-01, due 2024-05-01,  70 000
                     2025-05-20 payment 90 000 -> P-1 settled, 20 000 unapplied credit
K3 particular  -     Q-1 issued 2025-05-10, due 2025-06-10,  30 000
                     2025-05-25 payment 10 000 -> Q-1 20 000
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.api.deps import get_clock
from server.db.models import Client, Invoice
from server.services import ledger
from server.services.access import Actor
from server.services.statements import client_statement
from tests.server.conftest import Login

D = Decimal
ZEROS = {"al_dia": "0.00", "1_30": "0.00", "31_60": "0.00", "61_90": "0.00", "91_180": "0.00",
         "181_360": "0.00", "mas_360": "0.00"}  # fmt: skip


def _invoice(
    session: Session, client: Client, number: str, issue: date, due: date, amount: int
) -> None:
    invoice = Invoice(
        client_id=client.id, number=number, issue_date=issue, due_date=due, amount=D(amount)
    )
    ledger.post_charge(session, invoice, source="import")


def _pay(session: Session, client: Client, amount: int, day: date) -> None:
    ledger.post_payment(
        session, client_id=client.id, amount=D(amount), effective_date=day, source="sync"
    )


@pytest.fixture
def portfolio(session: Session, make_user: Any, make_client: Any) -> list[Client]:
    ana, beto = make_user("collector", "ana").user, make_user("collector", "beto").user
    k1 = make_client("K1", ana, segment="grupo")
    k2 = make_client("K2", beto, segment="particular")
    k3 = make_client("K3", None, segment="particular")
    _invoice(session, k1, "G-1", date(2025, 2, 1), date(2025, 3, 1), 100_000)
    _invoice(session, k1, "G-2", date(2025, 4, 15), date(2025, 5, 15), 40_000)
    _invoice(session, k2, "P-1", date(2024, 4, 1), date(2024, 5, 1), 70_000)
    _invoice(session, k3, "Q-1", date(2025, 5, 10), date(2025, 6, 10), 30_000)
    _pay(session, k2, 90_000, date(2025, 5, 20))
    _pay(session, k3, 10_000, date(2025, 5, 25))
    session.commit()
    return [k1, k2, k3]


@pytest.fixture
def office(make_user: Any) -> Login:
    login: Login = make_user("supervisor")
    return login


def _aging(client: TestClient, login: Login, **params: str) -> Any:
    r = client.get("/v1/reports/aging", params=params, headers=login.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_aging_on_june_first(client: TestClient, office: Login, portfolio: list[Client]) -> None:
    body = _aging(client, office, as_of="2025-06-01")
    # G-1: 92 days past due; G-2: 17 days; Q-1: not yet due; P-1 settled (credit of 20 000 left).
    assert body["totals"] == {**ZEROS, "al_dia": "20000.00", "1_30": "40000.00",
                              "91_180": "100000.00"}  # fmt: skip
    assert body["counts"] == {"al_dia": 1, "1_30": 1, "31_60": 0, "61_90": 0, "91_180": 1,
                              "181_360": 0, "mas_360": 0}  # fmt: skip
    assert (body["total"], body["invoice_count"]) == ("160000.00", 3)
    assert (body["unapplied_credit"], body["net_balance"]) == ("20000.00", "140000.00")
    assert body["buckets"] == list(ZEROS)
    by_collector = {r["collector"]: r for r in body["by_collector"]}
    assert list(by_collector) == ["ana", "beto", None]
    assert by_collector["ana"]["totals"] == {**ZEROS, "1_30": "40000.00", "91_180": "100000.00"}
    assert (by_collector["beto"]["total"], by_collector["beto"]["net_balance"]) == (
        "0.00",
        "-20000.00",
    )
    assert by_collector[None]["totals"]["al_dia"] == "20000.00"
    assert [(r["segment"], r["total"], r["unapplied_credit"]) for r in body["by_segment"]] == [
        ("grupo", "140000.00", "0.00"),
        ("particular", "20000.00", "20000.00"),
    ]


def test_aging_earlier_is_rebuilt_from_entries(
    client: TestClient, office: Login, portfolio: list[Client]
) -> None:
    body = _aging(client, office, as_of="2025-05-10")
    # G-1 70 days, G-2 and Q-1 not yet due, P-1 374 days and not yet paid.
    assert body["totals"] == {**ZEROS, "al_dia": "70000.00", "61_90": "100000.00",
                              "mas_360": "70000.00"}  # fmt: skip
    assert (body["total"], body["invoice_count"], body["unapplied_credit"]) == (
        "240000.00",
        4,
        "0.00",
    )
    # On New Year's Day only P-1 had been issued: 245 days past due.
    body = _aging(client, office, as_of="2025-01-01")
    assert body["totals"] == {**ZEROS, "181_360": "70000.00"}
    assert [r["collector"] for r in body["by_collector"]] == ["beto"]


def test_net_balance_equals_the_statements(
    session: Session, office: Login, portfolio: list[Client], client: TestClient
) -> None:
    actor = Actor(office.user.id, office.user.username, "supervisor")
    for day in (date(2025, 1, 1), date(2025, 5, 10), date(2025, 5, 22), date(2025, 6, 1)):
        net = D(_aging(client, office, as_of=day.isoformat())["net_balance"])
        balances = [client_statement(session, actor, k.id, as_of=day).balance for k in portfolio]
        assert net == sum(balances)


@pytest.mark.parametrize(
    ("params", "total", "credit"),
    [
        ({"collector": "ana"}, "140000.00", "0.00"),
        ({"collector": "beto"}, "0.00", "20000.00"),
        ({"segment": "particular"}, "20000.00", "20000.00"),
        ({"segment": "grupo", "collector": "beto"}, "0.00", "0.00"),
    ],
)
def test_filters(
    client: TestClient,
    office: Login,
    portfolio: list[Client],
    params: dict[str, str],
    total: str,
    credit: str,
) -> None:
    body = _aging(client, office, as_of="2025-06-01", **params)
    assert (body["total"], body["unapplied_credit"]) == (total, credit)


def test_default_date_is_today_in_bogota(
    app: FastAPI, client: TestClient, office: Login, portfolio: list[Client]
) -> None:
    # 03:00 UTC on May 11 is still May 10 in Bogotá.
    app.dependency_overrides[get_clock] = lambda: lambda: datetime(2025, 5, 11, 3, 0, tzinfo=UTC)
    body = _aging(client, office)
    assert (body["as_of"], body["total"]) == ("2025-05-10", "240000.00")


def test_aging_is_for_the_office(
    client: TestClient, make_user: Any, portfolio: list[Client]
) -> None:
    r = client.get("/v1/reports/aging", headers=make_user("collector").headers)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "insufficient_role")
    assert client.get("/v1/reports/aging").status_code == 401


@pytest.mark.parametrize("params", [{"as_of": "2025-13-01"}, {"as_of": "ayer"}, {"segment": "x"}])
def test_bad_parameters(client: TestClient, office: Login, params: dict[str, str]) -> None:
    r = client.get("/v1/reports/aging", params=params, headers=office.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_input")


def test_custom_edges(
    app: FastAPI, client: TestClient, office: Login, portfolio: list[Client]
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"aging_edges": (15, 45)})
    body = _aging(client, office, as_of="2025-06-01")
    assert body["buckets"] == ["al_dia", "1_15", "16_45", "mas_45"]
    # G-2 at 17 days now falls in 16_45; G-1 at 92 days past the last edge.
    assert body["totals"] == {
        "al_dia": "20000.00",
        "1_15": "0.00",
        "16_45": "40000.00",
        "mas_45": "100000.00",
    }
