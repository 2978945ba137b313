"""The worked example of the commission tests, built through the real push (phones, clock).

Rules: the shipped file (version 2026-1): percent by the bucket of the invoice on the payment's
business day, edges 30/60/90/180 days: al_dia 0.5, 1_30 1, 31_60 2, 61_90 3, 91_180 4,
mas_180 5; weekly bonus $ 100.000 at 40 effective contacts.

Ana's clients: A (FA-1 due 01/10/2026 $ 500.000, FA-2 due 30/11/2026 $ 300.000),
B (FB-1 due 01/06/2026 $ 200.000). Pushed in this order (business days in Bogotá):

- P1 ana 10/11, A, $ 600.000, oldest due first: FA-1 $ 500.000, 40 days past due -> 31_60, 2 % =
  $ 10.000; FA-2 $ 100.000, not yet due -> al_dia, 0.5 % = $ 500.  (split over two buckets)
- P2 ana 12/11, B, $ 250.000: FB-1 $ 200.000, 164 days (01/06 -> 12/11) -> 91_180, 4 % = $ 8.000;
  $ 50.000 left as credit: 0.  (overpayment)
- P4 beto 15/11, A (ana's client: held `client_reassigned`, still posted): FA-2 $ 100.000,
  al_dia, 0.5 % = $ 500, counted for beto, not for ana.
- P3 ana 20/11, A, $ 33.333: FA-2 $ 33.333, al_dia, 0.5 % = 166,665 -> $ 166,67 (half up).
- V3 ana voids P3 on 02/12 (a December business day): December gets -$ 33.333 / -$ 166,67.

Visits of ana (effective = contacted, promise, payment, dispute):
- W46 (09-15/11): 40 effective -> bonus $ 100.000 (the target hit exactly);
- W47 (16-22/11): 39 effective, one of them at 23:30 on Sunday 22/11 in Bogotá (04:30 Monday
  UTC: still W47), plus one `not_found` (not effective) -> 39, no bonus;
- W48 (23-29/11): 1 effective (00:30 Monday 23/11).
November's weeks are those whose Sunday is in November: W44 (Sunday 01/11) to W48 (29/11).

Ana, November: commission 10.000 + 500 + 8.000 + 0 + 166,67 = $ 18.666,67; bonus $ 100.000;
total $ 118.666,67; collected 600.000 + 250.000 + 33.333 = $ 883.333 (3 payments).
Beto, November: commission $ 500, collected $ 100.000, bonus 0.
Ana, December: commission -$ 166,67 (one reversal of $ 33.333), bonus 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import (
    Phone,
    invoice,
    payment,
    push,
    register_phone,
    statuses,
    visit,
    void,
)

EFFECTIVE = ("contacted", "promise", "payment", "dispute")


@dataclass
class World:
    ana: Login
    beto: Login
    office: Login
    payments: dict[str, dict[str, Any]]


def _at(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00-05:00"


def _visits(phone: Phone, clients: list[Any], days: list[date], count: int) -> list[dict[str, Any]]:
    """`count` effective visits spread over `days`, 08:00 onwards, outcomes in turn."""
    return [
        visit(
            phone,
            clients[i % len(clients)].id,
            EFFECTIVE[i % len(EFFECTIVE)],
            device_time=_at(days[i % len(days)], 8 + (i // len(days)) % 10, i % 60),
        )
        for i in range(count)
    ]


def build(
    client: TestClient, session: Session, clock: FakeClock, make_user: Any, make_client: Any
) -> World:
    ana, beto, office = make_user("collector"), make_user("collector"), make_user("supervisor")
    ana_phone, beto_phone = register_phone(client, ana), register_phone(client, beto)
    a = make_client("C-A", collector=ana.user, name="Droguería Álamo")
    b = make_client("C-B", collector=ana.user, name="Ferretería Bravo")
    invoice(session, a, "FA-1", date(2026, 10, 1), "500000.00")
    invoice(session, a, "FA-2", date(2026, 11, 30), "300000.00")
    invoice(session, b, "FB-1", date(2026, 6, 1), "200000.00")

    clock.now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    p1 = payment(ana_phone, a.id, "600000.00", device_time=_at(date(2026, 11, 10), 9))
    p2 = payment(ana_phone, b.id, "250000.00", device_time=_at(date(2026, 11, 12), 9))
    assert statuses(push(client, ana_phone, [p1, p2])) == [("applied", None)] * 2
    p4 = payment(beto_phone, a.id, "100000.00", device_time=_at(date(2026, 11, 15), 11))
    assert statuses(push(client, beto_phone, [p4])) == [("held", "client_reassigned")]
    p3 = payment(ana_phone, a.id, "33333.00", device_time=_at(date(2026, 11, 20), 16))
    assert statuses(push(client, ana_phone, [p3])) == [("applied", None)]

    w46 = [date(2026, 11, 9) + timedelta(days=d) for d in range(6)]  # Monday to Saturday
    w47 = [date(2026, 11, 16) + timedelta(days=d) for d in range(6)]
    visits = _visits(ana_phone, [a, b], w46, 40)
    visits += _visits(ana_phone, [a, b], w47, 38)
    visits.append(visit(ana_phone, a.id, "promise", device_time=_at(date(2026, 11, 22), 23, 30)))
    visits.append(visit(ana_phone, b.id, "not_found", device_time=_at(date(2026, 11, 18), 12)))
    visits.append(visit(ana_phone, b.id, "contacted", device_time=_at(date(2026, 11, 23), 0, 30)))
    assert {s for s, _ in statuses(push(client, ana_phone, visits))} <= {"applied", "held"}

    clock.now = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
    v3 = void(ana_phone, a.id, p3["event_id"])
    v3["device_time"] = _at(date(2026, 12, 2), 9)
    assert statuses(push(client, ana_phone, [v3])) == [("applied", None)]
    session.expire_all()
    return World(ana, beto, office, {"P1": p1, "P2": p2, "P3": p3, "P4": p4})
