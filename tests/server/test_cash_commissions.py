"""The commission option `cash_counts_when` (shared/rules/commissions.toml), worked by hand on
both engines.

Ana's client A owes FA-1 ($ 500.000), due 40 days before the payments' day P (bucket 31_60,
2 %). On P (five days ago) she collects, oldest due first, all on FA-1:
- C1 cash $ 100.000 (handed over, confirmed today T): 2 % = $ 2.000;
- T1 transfer $ 50.000: $ 1.000;
- C2 cash $ 30.000 (handed over, the handover rejected): $ 600;
- C3 cash $ 20.000, voided on P: $ 400 and -$ 400.

`collected` (the default): P earns 2.000 + 1.000 + 600 + 400 - 400 = $ 3.600; T earns nothing.
`confirmed`: P earns only the transfer, $ 1.000 (C2 never confirmed, C3 never counted so its
void takes nothing back); T earns C1's $ 2.000, listed on T with its bucket of P.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.services.commission_statements import Statement, statements
from shared.calendar import business_date
from shared.commissions import CommissionRules, load_rules, parse_rules
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import (
    MakeUser,
    invoice,
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
class Example:
    ana: Login
    paid_day: date
    today: date
    c1: dict[str, Any]


@pytest.fixture
def example(
    client: TestClient,
    session: Session,
    make_user: MakeUser,
    make_client: Any,
    clock: FakeClock,
) -> Example:
    ana, boss = make_user("collector"), make_user("supervisor")
    phone = register_phone(client, ana)
    paid_at = clock.now - timedelta(days=5)
    paid_day, today = business_date(paid_at, TZ), business_date(clock.now, TZ)
    a = make_client(collector=ana.user)
    invoice(session, a, f"FA-{uuid.uuid4().hex[:6]}", paid_day - timedelta(days=40), "500000.00")
    at = {"device_time": paid_at.isoformat()}
    c1 = payment(phone, a.id, "100000.00", **at)
    t1 = payment(phone, a.id, "50000.00", payload={"method": "transfer"}, **at)
    c2 = payment(phone, a.id, "30000.00", **at)
    c3 = payment(phone, a.id, "20000.00", **at)
    v3 = void(phone, a.id, c3["event_id"])
    v3["device_time"] = paid_at.isoformat()
    h1, h2 = handover(phone, [c1], "100000.00"), handover(phone, [c2], "30000.00")
    results = statuses(push(client, phone, [c1, t1, c2, c3, v3, h1, h2]))
    assert results == [("applied", None)] * 7
    r = client.post(
        f"/v1/cash/handovers/{h1['event_id']}/confirm",
        json={"amount": "100000.00"},
        headers=boss.headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/v1/cash/handovers/{h2['event_id']}/reject",
        json={"note": "faltante"},
        headers=boss.headers,
    )
    assert r.status_code == 200, r.text
    return Example(ana, paid_day, today, c1)


def _statement(
    session: Session, ex: Example, start: date, end: date, rules: CommissionRules
) -> Statement:
    (found,) = statements(session, start, end, collector_id=ex.ana.user.id, rules=rules, tz=TZ)
    return found


def _confirmed() -> CommissionRules:
    return dataclasses.replace(load_rules(), cash_counts_when="confirmed")


def test_by_default_cash_counts_when_collected(session: Session, example: Example) -> None:
    rules = load_rules()
    assert rules.cash_counts_when == "collected"
    on_p = _statement(session, example, example.paid_day, example.paid_day, rules)
    assert on_p.commission == D("3600.00")
    assert (on_p.payments, on_p.collected) == (4, D("200000.00"))
    assert _statement(session, example, example.today, example.today, rules).commission == 0


def test_confirmed_cash_counts_on_the_confirmation_day(session: Session, example: Example) -> None:
    rules = _confirmed()
    on_p = _statement(session, example, example.paid_day, example.paid_day, rules)
    assert (on_p.commission, on_p.payments, on_p.reversals) == (D("1000.00"), 1, 0)
    assert [(ln.amount, ln.bucket, ln.percent) for ln in on_p.lines] == [
        (D("50000.00"), "31_60", D("2"))
    ]
    on_t = _statement(session, example, example.today, example.today, rules)
    assert on_t.commission == D("2000.00")
    (line,) = on_t.lines
    assert (line.kind, line.day, line.paid_on, line.bucket, line.amount) == (
        "payment",
        example.today,
        example.paid_day,
        "31_60",
        D("100000.00"),
    )
    assert line.receipt == example.c1["payload"]["receipt_no"]
    # Over both days together: each counted once.
    both = _statement(session, example, example.paid_day, example.today, rules)
    assert both.commission == D("3000.00")


def test_the_rules_file_option() -> None:
    base = {
        "version": "x",
        "aging": {"edges": [30]},
        "rates": {"al_dia": "1", "1_30": "2", "mas_30": "3"},
    }
    assert parse_rules(base).cash_counts_when == "collected"
    assert parse_rules({**base, "cash_counts_when": "confirmed"}).cash_counts_when == "confirmed"
    with pytest.raises(ValueError, match="cash_counts_when"):
        parse_rules({**base, "cash_counts_when": "deposited"})
