"""Visits verified when pushed: distance, verified and flags stored, flagged visits in the review
queue, a client's location learned from repeated good fixes, the ledger's coordinates marked as
such. Worked examples by hand, on both engines."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from geopy.distance import geodesic
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import ChangeLog, Client, ReviewItem, Visit
from shared.geo import Point, distance_m
from tests.server.conftest import FakeClock
from tests.server.sync_helpers import MakeUser, Phone, event, push, register_phone, statuses

# Tuesday 24 November 2026, 10:03 in Bogotá (15:03 UTC): the server's receive time.
RECEIVED = datetime(2026, 11, 24, 15, 3, tzinfo=UTC)
TUESDAY_10 = "2026-11-24T10:00:00-05:00"
HOME = Point(4.65, -74.06)


def away(metres: float, bearing: float = 0.0, origin: Point = HOME) -> Point:
    p = geodesic(meters=metres).destination((origin.lat, origin.lon), bearing)
    return Point(p.latitude, p.longitude)


def seen(
    phone: Phone,
    client_id: uuid.UUID | str,
    at: Point | None,
    accuracy: float | None = 10.0,
    device_time: str = TUESDAY_10,
    outcome: str = "contacted",
) -> dict[str, Any]:
    payload: dict[str, Any] = {"outcome": outcome, "notes": ""}
    if at is not None:
        payload |= {"lat": at.lat, "lon": at.lon, "accuracy_m": accuracy}
    return event(phone, "visit.recorded", client_id, payload, device_time=device_time)


def stored(session: Session, e: dict[str, Any]) -> Visit:
    session.expire_all()
    row = session.scalar(select(Visit).where(Visit.event_id == uuid.UUID(e["event_id"])))
    assert row is not None
    return row


def reviews(session: Session) -> list[tuple[str, str, uuid.UUID]]:
    return [
        (r.kind, r.reason, r.event_id)
        for r in session.scalars(select(ReviewItem).order_by(ReviewItem.id))
    ]


@pytest.fixture
def phone(client: TestClient, make_user: MakeUser, clock: FakeClock) -> Phone:
    clock.now = RECEIVED
    return register_phone(client, make_user("collector"))


@pytest.fixture
def home(phone: Phone, make_client):  # type: ignore[no-untyped-def]
    return make_client(collector=phone.user, lat=HOME.lat, lon=HOME.lon, location_source="ledger")


class TestVerdictStored:
    def test_140_m_away_with_20_m_accuracy_is_verified(
        self, client: TestClient, session: Session, phone: Phone, home: Client
    ) -> None:
        e = seen(phone, home.id, away(140), accuracy=20)
        assert statuses(push(client, phone, [e])) == [("applied", None)]
        v = stored(session, e)
        assert v.distance_m == pytest.approx(140, abs=0.01)
        assert (v.verified, v.flags, v.business_date) == (True, "", date(2026, 11, 24))
        assert reviews(session) == []

    def test_300_m_away_is_flagged_and_reviewed_but_applied(
        self, client: TestClient, session: Session, phone: Phone, home: Client
    ) -> None:
        e = seen(phone, home.id, away(300, 45), accuracy=20)
        assert statuses(push(client, phone, [e])) == [("applied", None)]
        v = stored(session, e)
        assert v.distance_m == pytest.approx(300, abs=0.01)
        assert (v.verified, v.flags) == (False, "far_from_client")
        assert reviews(session) == [("flagged_visit", "far_from_client", uuid.UUID(e["event_id"]))]

    def test_poor_accuracy(
        self, client: TestClient, session: Session, phone: Phone, home: Client
    ) -> None:
        e = seen(phone, home.id, away(30), accuracy=150)
        push(client, phone, [e])
        assert (stored(session, e).verified, stored(session, e).flags) == (False, "poor_accuracy")
        assert [r[:2] for r in reviews(session)] == [("flagged_visit", "poor_accuracy")]

    def test_clock_ahead_keeps_the_device_day(
        self, client: TestClient, session: Session, phone: Phone, home: Client, clock: FakeClock
    ) -> None:
        # The phone says Wednesday 10:00; the server receives it on Tuesday 10:03.
        e = seen(phone, home.id, HOME, device_time="2026-11-25T10:00:00-05:00")
        push(client, phone, [e])
        v = stored(session, e)
        assert (v.verified, v.flags, v.business_date) == (True, "clock_ahead", date(2026, 11, 25))
        assert [r[:2] for r in reviews(session)] == [("flagged_visit", "clock_ahead")]

    def test_clock_behind(
        self, client: TestClient, session: Session, phone: Phone, home: Client
    ) -> None:
        e = seen(phone, home.id, HOME, device_time="2026-11-09T10:00:00-05:00")  # 15 days
        push(client, phone, [e])
        assert stored(session, e).flags == "clock_behind"

    @pytest.mark.parametrize(
        ("device_time", "day"),
        [
            ("2026-11-22T23:30:00-05:00", date(2026, 11, 22)),  # Sunday 23:30
            ("2026-11-16T10:00:00-05:00", date(2026, 11, 16)),  # holiday (Cartagena)
            ("2026-11-23T19:30:00-05:00", date(2026, 11, 23)),  # Monday 19:30
        ],
    )
    def test_outside_legal_hours(
        self,
        client: TestClient,
        session: Session,
        phone: Phone,
        home: Client,
        device_time: str,
        day: date,
    ) -> None:
        e = seen(phone, home.id, HOME, device_time=device_time)
        push(client, phone, [e])
        v = stored(session, e)
        assert (v.verified, v.flags, v.business_date) == (True, "outside_legal_hours", day)
        assert [r[:2] for r in reviews(session)] == [("flagged_visit", "outside_legal_hours")]

    def test_no_fix_and_no_location_are_noted_not_reviewed(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        nowhere = make_client(collector=phone.user)
        e = seen(phone, nowhere.id, None)
        assert statuses(push(client, phone, [e])) == [("applied", None)]
        v = stored(session, e)
        assert (v.verified, v.distance_m, v.flags) == (
            False,
            None,
            "no_fix,client_location_unknown",
        )
        assert reviews(session) == []

    def test_a_held_visit_that_is_also_flagged_gets_both_items(
        self, client: TestClient, session: Session, phone: Phone, make_client, make_user
    ) -> None:
        other = make_client(collector=make_user("collector").user, lat=HOME.lat, lon=HOME.lon)
        e = seen(phone, other.id, away(500))
        assert statuses(push(client, phone, [e])) == [("held", "client_reassigned")]
        assert [r[:2] for r in reviews(session)] == [
            ("flagged_visit", "far_from_client"),
            ("held_event", "client_reassigned"),
        ]

    def test_a_visit_to_an_unknown_client(
        self, client: TestClient, session: Session, phone: Phone
    ) -> None:
        e = seen(phone, uuid.uuid4(), HOME)
        assert statuses(push(client, phone, [e])) == [("held", "client_unknown")]
        assert stored(session, e).flags == "client_location_unknown"


class TestLearnedLocation:
    def test_three_agreeing_good_fixes_teach_the_location(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        first = [seen(phone, c.id, away(10, 0), 20), seen(phone, c.id, away(30, 90), 20)]
        push(client, phone, first)
        session.expire_all()
        assert (c.lat, c.lon, c.location_source) == (None, None, None)
        # Not teaching: a poor fix, a skewed clock, one 2 km away (left out by the median).
        noise = [
            seen(phone, c.id, away(5), 80),
            seen(phone, c.id, away(5), 10, device_time="2026-11-01T10:00:00-05:00"),
            seen(phone, c.id, away(2_000, 10), 10),
        ]
        push(client, phone, noise)
        session.expire_all()
        assert c.lat is None
        third, later = seen(phone, c.id, away(20, 180), 20), seen(phone, c.id, away(60, 270), 15)
        version = c.version
        push(client, phone, [third, later])
        session.expire_all()
        fixes = [away(10, 0), away(30, 90), away(2_000, 10), away(20, 180)]
        # Median of the four good fixes, then of the three within 100 m of it.
        near = fixes[:2] + fixes[3:]
        assert c.location_source == "learned"
        assert c.lat == pytest.approx(sorted(p.lat for p in near)[1], abs=1e-12)
        assert c.lon == pytest.approx(sorted(p.lon for p in near)[1], abs=1e-12)
        assert c.version > version
        # The visit that taught it stays unverified; the next one is checked against it.
        assert stored(session, third).flags == "client_location_unknown"
        after = stored(session, later)
        assert after.verified and after.flags == ""
        assert after.distance_m == pytest.approx(
            distance_m(away(60, 270), Point(c.lat, c.lon)), abs=0.01
        )
        # The collector's phone gets the client again (with its coordinates).
        put = session.scalar(
            select(ChangeLog).where(ChangeLog.entity == "client", ChangeLog.entity_id == c.id)
        )
        assert put is not None and put.user_id == phone.user.id and put.op == "put"

    def test_a_ledger_location_is_never_replaced(
        self, client: TestClient, session: Session, phone: Phone, home: Client
    ) -> None:
        far = away(1_000)
        push(client, phone, [seen(phone, home.id, far, 5) for _ in range(4)])
        session.expire_all()
        assert (home.lat, home.lon, home.location_source) == (HOME.lat, HOME.lon, "ledger")

    def test_fixes_from_earlier_pushes_count(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        for bearing in (0, 120, 240):
            push(client, phone, [seen(phone, c.id, away(8, bearing), 12)])
        session.expire_all()
        assert c.location_source == "learned"
        assert distance_m(Point(c.lat, c.lon), HOME) < 8


def test_the_ledger_import_marks_its_coordinates(
    client: TestClient, session: Session, make_user: MakeUser, make_client
) -> None:
    make_client(code="C-GEO-2", lat=4.7, lon=-74.1, location_source="learned")
    csv = (
        "codigo_cliente,nombre_cliente,factura,fecha_vencimiento,valor,latitud,longitud\n"
        "C-GEO-1,Ana,FE-GEO-1,2026-01-31,1000.00,4.61,-74.07\n"
        "C-GEO-2,Beto,FE-GEO-2,2026-01-31,1000.00,4.62,-74.08\n"
        "C-GEO-3,Caro,FE-GEO-3,2026-01-31,1000.00,,\n"
    )
    admin = make_user("admin")
    r = client.post(
        "/v1/imports/ledger",
        files={"file": ("cartera.csv", csv, "text/csv")},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    session.expire_all()
    rows = {
        c.code: (c.lat, c.lon, c.location_source)
        for c in session.scalars(select(Client).where(Client.code.like("C-GEO-%")))
    }
    assert rows == {
        "C-GEO-1": (4.61, -74.07, "ledger"),
        "C-GEO-2": (4.62, -74.08, "ledger"),  # the ledger's word replaces a learned location
        "C-GEO-3": (None, None, None),
    }
