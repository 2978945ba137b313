"""Hoy and Cliente from the mirror plus this phone's events: order, search, filters, detail."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import ClientMirror
from mobile.services.portfolio import load_clients, load_events
from mobile.services.recording import record_payment, record_promise, record_visit, void_payment
from mobile.state.clients import TodayFilter, client_detail, filter_rows, today_rows
from shared.geo import Point
from tests.mobile.conftest import MORNING

TODAY = MORNING.date()


def add_client(
    db: sessionmaker[Session],
    name: str,
    balance: str,
    *,
    overdue_days: tuple[int, ...] = (),
    segment: str = "tienda",
    address: str = "",
    lat: float | None = None,
    lon: float | None = None,
) -> str:
    client_id = str(uuid.uuid4())
    invoices: list[dict[str, Any]] = [
        {
            "number": f"F-{i}",
            "due_date": (TODAY - timedelta(days=d)).isoformat(),
            "balance": "10000.00",
            "bucket": "stale-on-purpose",  # the phone recomputes buckets from due dates
        }
        for i, d in enumerate(overdue_days)
    ]
    with db.begin() as session:
        session.add(
            ClientMirror(
                id=client_id,
                code=f"C-{name[:3].upper()}",
                name=name,
                segment=segment,
                address=address,
                lat=lat,
                lon=lon,
                balance=Decimal(balance),
                version=1,
                change_seq=0,
                open_invoices=invoices,
                updated_at=MORNING,
            )
        )
    return client_id


def rows(db: sessionmaker[Session], position: Point | None = None) -> list[Any]:
    return today_rows(
        load_clients(db), load_events(db), now=MORNING, tz="America/Bogota", position=position
    )


def test_priority_order_promise_today_then_oldest_bucket_then_balance(
    db: sessionmaker[Session],
) -> None:
    small_old = add_client(db, "Droguería Sol", "20000", overdue_days=(200,))
    big_recent = add_client(db, "Ferretería Luna", "900000", overdue_days=(10,))
    big_old = add_client(db, "Almacén Río", "500000", overdue_days=(5, 250))
    current = add_client(db, "Panadería Ñapa", "1000000", overdue_days=(-3,))
    promised = add_client(db, "Café Azul", "1000", overdue_days=(1,))
    record_promise(db, client_id=promised, amount=Decimal(1000), due_date=TODAY, now=MORNING)
    record_promise(  # due tomorrow: not a "promise today"
        db, client_id=current, amount=Decimal(5), due_date=TODAY + timedelta(days=1), now=MORNING
    )

    listed = rows(db)
    assert [r.id for r in listed] == [promised, big_old, small_old, big_recent, current]
    by_id = {r.id: r for r in listed}
    assert by_id[big_old].oldest_bucket == "181_360"
    assert by_id[small_old].oldest_bucket == "181_360"
    assert by_id[big_recent].oldest_bucket == "1_30"
    assert by_id[current].oldest_bucket == "al_dia"
    assert by_id[promised].promise_due_today == Decimal("1000.00")
    assert by_id[current].promise_due_today is None


def test_row_shows_visible_balance_last_outcome_and_distance(db: sessionmaker[Session]) -> None:
    client = add_client(db, "Tienda Mía", "100000", lat=4.6097, lon=-74.0817)
    record_visit(db, client_id=client, outcome="not_found", now=MORNING - timedelta(days=2))
    record_visit(db, client_id=client, outcome="contacted", now=MORNING)
    record_payment(db, client_id=client, amount=Decimal(30000), method="cash", now=MORNING)

    (row,) = rows(db, position=Point(4.6097, -74.0717))  # about 1.1 km east
    assert row.balance == Decimal("70000.00")
    assert row.last_outcome == "contacted"
    assert row.visited_this_week
    assert row.distance_m is not None and 1050 < row.distance_m < 1150
    (no_position,) = rows(db)
    assert no_position.distance_m is None


def test_search_ignores_case_and_accents_and_filters_combine(db: sessionmaker[Session]) -> None:
    pena = add_client(db, "Señora Peña", "1000", address="Calle 80 # 12-40", overdue_days=(40,))
    add_client(db, "Miscelánea Kevin", "2000", segment="empresa", overdue_days=(40,))
    visited = add_client(db, "Peñalosa Hnos", "3000", overdue_days=(5,))
    record_visit(db, client_id=visited, outcome="refused", now=MORNING)
    listed = rows(db)

    def names(**kw: Any) -> list[str]:
        return [r.name for r in filter_rows(listed, TodayFilter(**kw))]

    assert names(query="PENA") == ["Señora Peña", "Peñalosa Hnos"]
    assert names(query="pena calle") == ["Señora Peña"]
    assert names(query="miscelanea") == ["Miscelánea Kevin"]
    assert names(query="C-SE") == ["Señora Peña"]  # by code
    assert names(segment="empresa") == ["Miscelánea Kevin"]
    assert names(bucket="31_60") == ["Miscelánea Kevin", "Señora Peña"]
    assert names(not_visited=True, query="pe") == ["Señora Peña"]
    assert names(promise_due=True) == []
    record_promise(db, client_id=pena, amount=Decimal(1), due_date=TODAY, now=MORNING)
    assert [r.name for r in filter_rows(rows(db), TodayFilter(promise_due=True))] == ["Señora Peña"]


def test_client_detail(db: sessionmaker[Session]) -> None:
    client = add_client(db, "Tienda Mía", "30000", overdue_days=(95, 0, 31), lat=4.6, lon=-74.08)
    record_promise(
        db, client_id=client, amount=Decimal(5000), due_date=date(2026, 11, 30), now=MORNING
    )
    yesterday = record_payment(
        db, client_id=client, amount=Decimal(1000), method="cash", now=MORNING - timedelta(days=1)
    )
    today = record_payment(db, client_id=client, amount=Decimal(2000), method="cash", now=MORNING)
    void_payment(db, payment_event_id=today.event_id, reason="error de digitación", now=MORNING)
    (record,) = load_clients(db)

    detail = client_detail(record, load_events(db), now=MORNING, tz="America/Bogota")
    assert [(i.number, i.bucket) for i in detail.invoices] == [
        ("F-0", "91_180"),
        ("F-2", "31_60"),
        ("F-1", "al_dia"),
    ]
    assert [(p.amount, p.due_date) for p in detail.promises] == [
        (Decimal("5000.00"), date(2026, 11, 30))
    ]
    assert [(p.receipt_no, p.voided) for p in detail.payments_today] == [("K7Q-000003", True)]
    assert yesterday.receipt_no not in {p.receipt_no for p in detail.payments_today}
    assert detail.unreflected_payments == 1  # yesterday's; today's was voided here
    assert record.balance == Decimal("29000.00")  # 30,000 - 1,000 (the 2,000 was voided)
    assert detail.location == Point(4.6, -74.08)


def test_server_promises_and_visits_merge_with_this_phones(db: sessionmaker[Session]) -> None:
    client = add_client(db, "Tienda Mía", "50000")
    with db.begin() as session:
        row = session.get(ClientMirror, client)
        assert row is not None
        row.promises = [
            {"amount": "7000.00", "due_date": TODAY.isoformat(), "status": "pending"},
            {"amount": "9000.00", "due_date": "2026-11-10", "status": "broken"},
        ]
        row.visits = [{"day": "2026-11-20", "outcome": "refused"}]  # last week (Friday)
    # Made here and already on the server (same amount and date): shown once.
    record_promise(db, client_id=client, amount=Decimal(7000), due_date=TODAY, now=MORNING)
    (listed,) = rows(db)
    assert listed.promise_due_today == Decimal("7000.00")
    assert listed.last_outcome == "refused" and not listed.visited_this_week

    record_visit(db, client_id=client, outcome="not_found", now=MORNING)
    with db.begin() as session:  # a pull brought the same visit back, by day
        row = session.get(ClientMirror, client)
        assert row is not None
        row.visits = [*row.visits, {"day": TODAY.isoformat(), "outcome": "not_found"}]
    (listed,) = rows(db)
    assert listed.last_outcome == "not_found" and listed.visited_this_week
    (record,) = load_clients(db)
    detail = client_detail(record, load_events(db), now=MORNING, tz="America/Bogota")
    assert [(p.amount, p.status) for p in detail.promises] == [
        (Decimal("7000.00"), "pending"),
        (Decimal("9000.00"), "broken"),
    ]
    assert [(v.day.isoformat(), v.outcome, v.at is not None) for v in detail.visits] == [
        (TODAY.isoformat(), "not_found", True),
        ("2026-11-20", "refused", False),
    ]
