"""Weekly visit counts per collector and ISO week of the business timezone (domain.md), from
visits pushed by two collectors' phones; the JSON report, its XLSX twin, a collector's year and
the flagged visits. Every number below is counted by hand from the table in `week`."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from geopy.distance import geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from server.db.models import Client, Device, Visit
from server.services import visit_counts
from shared.calendar import IsoWeek
from shared.geo import Point
from shared.visits import EFFECTIVE_OUTCOMES
from sync.protocol import VISIT_OUTCOMES
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import MakeUser, Phone, event, push, register_phone, statuses

HOME = Point(4.65, -74.06)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
W47, W48, W49 = IsoWeek(2026, 47), IsoWeek(2026, 48), IsoWeek(2026, 49)


def away(metres: float) -> Point:
    p = geodesic(meters=metres).destination((HOME.lat, HOME.lon), 90)
    return Point(p.latitude, p.longitude)


@dataclass
class Week:
    ana: Login
    beto: Login
    caro: Login  # a collector with no visits
    supervisor: Login
    clients: dict[str, Client]


def _visit(
    client: TestClient,
    clock: FakeClock,
    phone: Phone,
    target: Client,
    local_time: str,
    outcome: str,
    at: Point | None,
) -> None:
    """Push one visit, received five minutes after its device time (no clock flag)."""
    device_time = datetime.fromisoformat(f"{local_time}-05:00")
    clock.now = device_time + timedelta(minutes=5)
    payload: dict[str, Any] = {"outcome": outcome, "notes": ""}
    if at is not None:
        payload |= {"lat": at.lat, "lon": at.lon, "accuracy_m": 10.0}
    e = event(phone, "visit.recorded", target.id, payload, device_time=device_time.isoformat())
    assert statuses(push(client, phone, [e])) == [("applied", None)]


@pytest.fixture
def week(client: TestClient, make_user: MakeUser, make_client, clock: FakeClock) -> Week:
    tag = uuid.uuid4().hex[:6]
    ana, beto, caro = (make_user("collector", f"{n}-{tag}") for n in ("ana", "beto", "caro"))
    a, b = register_phone(client, ana), register_phone(client, beto)
    clients = {
        code: make_client(
            code=f"{code}-{tag}",
            name=f"Cliente {code}",
            collector=(ana if code != "C4" else beto).user,
            lat=HOME.lat,
            lon=HOME.lon,
        )
        for code in ("C1", "C2", "C3", "C4")
    }
    c = clients
    # collector, client, Bogotá time, outcome, fix     -> week, effective, verified, flagged
    _visit(client, clock, a, c["C1"], "2026-11-22T23:30:00", "contacted", HOME)  # W47 Sun
    _visit(client, clock, a, c["C1"], "2026-11-23T10:00:00", "contacted", HOME)  # W48 e v
    _visit(client, clock, a, c["C1"], "2026-11-24T11:00:00", "not_found", HOME)  # W48 v
    _visit(client, clock, a, c["C2"], "2026-11-25T09:00:00", "promise", away(300))  # W48 e f
    _visit(client, clock, a, c["C3"], "2026-11-29T23:30:00", "payment", HOME)  # W48 e v f(Sun)
    _visit(client, clock, a, c["C1"], "2026-11-30T08:00:00", "contacted", HOME)  # W49 e v
    _visit(client, clock, b, c["C4"], "2026-11-24T10:00:00", "refused", None)  # W48 (no fix)
    _visit(client, clock, b, c["C4"], "2026-11-24T10:30:00", "dispute", HOME)  # W48 e v
    return Week(ana, beto, caro, make_user("supervisor"), clients)


def counts(row: Any) -> tuple[int, int, int, int, int]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return tuple(  # type: ignore[return-value]
        get(k)
        for k in (
            "visits",
            "effective_contacts",
            "verified_visits",
            "clients_visited",
            "flagged_visits",
        )
    )


def ours(rows: list[Any], w: Week) -> dict[str, tuple[int, int, int, int, int]]:
    names = {w.ana.user.username, w.beto.user.username, w.caro.user.username}
    by_name = {(r["collector"] if isinstance(r, dict) else r.collector): r for r in rows}
    return {name: counts(by_name[name]) for name in sorted(names)}


class TestService:
    def test_the_week_of_two_collectors(self, session: Session, week: Week) -> None:
        report = visit_counts.weekly_visits(session, W48)
        assert (report.week, report.monday, report.sunday) == (
            "2026-W48",
            date(2026, 11, 23),
            date(2026, 11, 29),
        )
        assert ours(report.rows, week) == {
            # visits, effective, verified, clients, flagged
            week.ana.user.username: (4, 3, 3, 3, 2),
            week.beto.user.username: (2, 1, 1, 1, 0),
            week.caro.user.username: (0, 0, 0, 0, 0),
        }
        assert [r.collector for r in report.rows] == sorted(r.collector for r in report.rows)

    def test_sunday_23_30_belongs_to_the_week_ending_that_sunday(
        self, session: Session, week: Week
    ) -> None:
        ana = week.ana.user.username
        assert counts(visit_counts.weekly_visits(session, W47, collector=ana).rows[0]) == (
            1,
            1,
            1,
            1,
            1,  # Sunday: outside the legal hours
        )
        assert counts(visit_counts.weekly_visits(session, W49, collector=ana).rows[0]) == (
            1,
            1,
            1,
            1,
            0,
        )

    def test_one_collector(self, session: Session, week: Week) -> None:
        report = visit_counts.weekly_visits(session, W48, collector=week.beto.user.username)
        assert [r.collector for r in report.rows] == [week.beto.user.username]
        assert counts(report.totals) == (2, 1, 1, 1, 0)
        assert report.rows[0].collector_id == week.beto.user.id

    def test_a_collectors_year(self, session: Session, week: Week) -> None:
        year = visit_counts.collector_weeks(session, week.ana.user.id, 2026)
        assert len(year) == 53  # 28 December 2026 is a Monday: 2026 has 53 ISO weeks
        assert [w.week for w in year[:2]] == ["2026-W01", "2026-W02"]
        assert year[0].monday == date(2025, 12, 29)
        busy = {w.week: counts(w) for w in year if w.visits}
        assert busy == {
            "2026-W47": (1, 1, 1, 1, 1),
            "2026-W48": (4, 3, 3, 3, 2),
            "2026-W49": (1, 1, 1, 1, 0),
        }

    def test_the_flagged_visits(self, session: Session, week: Week) -> None:
        flagged = visit_counts.flagged_visits(
            session, date(2026, 11, 23), date(2026, 11, 29), week.ana.user.id
        )
        assert [(v.client_name, v.outcome, v.flags) for v in flagged] == [
            ("Cliente C2", "promise", ["far_from_client"]),
            ("Cliente C3", "payment", ["outside_legal_hours"]),
        ]
        assert flagged[0].distance_m == pytest.approx(300, abs=0.01)
        assert flagged[0].accuracy_m == 10.0 and not flagged[0].verified
        assert flagged[0].client_code == week.clients["C2"].code
        everyone = visit_counts.flagged_visits(session, date(2026, 11, 16), date(2026, 11, 30))
        assert len([v for v in everyone if v.collector == week.ana.user.username]) == 3


class TestEndpoint:
    def test_json(self, client: TestClient, week: Week) -> None:
        r = client.get(
            "/v1/reports/weekly-visits",
            params={"week": "2026-W48"},
            headers=week.supervisor.headers,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["week"], body["timezone"]) == ("2026-W48", "America/Bogota")
        assert ours(body["rows"], week)[week.ana.user.username] == (4, 3, 3, 3, 2)
        assert ours(body["rows"], week)[week.beto.user.username] == (2, 1, 1, 1, 0)

    @pytest.mark.parametrize("how", ["query", "accept"])
    def test_xlsx_holds_the_same_numbers(self, client: TestClient, week: Week, how: str) -> None:
        params = {"week": "2026-W48", "collector": week.ana.user.username}
        headers = dict(week.supervisor.headers)
        if how == "query":
            params["format"] = "xlsx"
        else:
            headers["Accept"] = XLSX
        r = client.get("/v1/reports/weekly-visits", params=params, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == XLSX
        assert "visitas_2026-W48.xlsx" in r.headers["content-disposition"]
        book = load_workbook(io.BytesIO(r.content))
        counts_sheet, flagged_sheet = book.worksheets
        rows = [row for row in counts_sheet.iter_rows(values_only=True) if any(row)]
        header = rows.index(
            (
                "Gestor",
                "Nombre",
                "Visitas",
                "Contactos efectivos",
                "Visitas verificadas",
                "Clientes visitados",
                "Visitas marcadas",
            )
        )
        assert rows[header + 1][0] == week.ana.user.username
        assert rows[header + 1][2:] == (4, 3, 3, 3, 2)
        assert rows[header + 2][0] == "Total" and rows[header + 2][2:] == (4, 3, 3, 3, 2)
        listed = [row for row in flagged_sheet.iter_rows(values_only=True) if any(row)]
        at = [row[0] for row in listed].index("Fecha y hora")
        # Excel has no time zones: the Bogotá wall clock, as written.
        assert [(row[0].isoformat(), row[3], row[7]) for row in listed[at + 1 :]] == [
            ("2026-11-25T09:00:00", "Cliente C2", "lejos del cliente"),
            ("2026-11-29T23:30:00", "Cliente C3", "fuera del horario legal"),
        ]
        assert listed[at + 1][5] == 300  # metres, rounded

    def test_bad_week_and_unknown_collector(self, client: TestClient, week: Week) -> None:
        h = week.supervisor.headers
        r = client.get("/v1/reports/weekly-visits", params={"week": "2026-W54"}, headers=h)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_week")
        r = client.get("/v1/reports/weekly-visits", params={"week": "48"}, headers=h)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_week")
        r = client.get(
            "/v1/reports/weekly-visits",
            params={"week": "2026-W48", "collector": "nadie"},
            headers=h,
        )
        assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_collector")

    def test_a_collector_may_not_read_it(self, client: TestClient, week: Week) -> None:
        r = client.get(
            "/v1/reports/weekly-visits", params={"week": "2026-W48"}, headers=week.ana.headers
        )
        assert (r.status_code, r.json()["error"]["code"]) == (403, "insufficient_role")

    def test_flagged_visits_endpoint(self, client: TestClient, week: Week) -> None:
        h = week.supervisor.headers
        r = client.get(
            "/v1/reports/flagged-visits",
            params={"from": "2026-11-23", "to": "2026-11-29", "collector": week.ana.user.username},
            headers=h,
        )
        assert r.status_code == 200, r.text
        assert [(v["client_code"], v["flags"]) for v in r.json()] == [
            (week.clients["C2"].code, ["far_from_client"]),
            (week.clients["C3"].code, ["outside_legal_hours"]),
        ]
        r = client.get(
            "/v1/reports/flagged-visits",
            params={"from": "2026-11-29", "to": "2026-11-23"},
            headers=h,
        )
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_period")
        r = client.get("/v1/reports/flagged-visits", params={"from": "0", "to": "0"}, headers=h)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_input")


# --- property: the counts are a recount of the rows ---------------------------------------------

FLAG_STRINGS = ("", "no_fix", "far_from_client", "outside_legal_hours,no_fix", "clock_ahead")
VisitRow = tuple[int, int, int, str, bool, str]  # collector, client, day offset, outcome, ...


@pytest.fixture
def people(session: Session, make_user: MakeUser) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Three collectors, each with a device: (user id, device id)."""
    out = []
    for _ in range(3):
        user = make_user("collector").user
        device = Device(
            user_id=user.id,
            name="Moto G",
            install_nonce=uuid.uuid4().hex,
            code=uuid.uuid4().hex[:8],
            token_hash=uuid.uuid4().hex,
        )
        session.add(device)
        session.commit()
        out.append((user.id, device.id))
    return out


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.integers(0, 3),
            st.integers(0, 20),  # days after Monday 16 November 2026 (W47..W49)
            st.sampled_from(VISIT_OUTCOMES),
            st.booleans(),
            st.sampled_from(FLAG_STRINGS),
        ),
        max_size=40,
    )
)
def test_counts_are_a_recount(
    session: Session, people: list[tuple[uuid.UUID, uuid.UUID]], rows: list[VisitRow]
) -> None:
    clients = [uuid.uuid4() for _ in range(4)]
    first = date(2026, 11, 16)
    moment = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    savepoint = session.begin_nested()
    try:
        session.add_all(
            Visit(
                event_id=uuid.uuid4(),
                client_id=clients[c],
                user_id=people[u][0],
                device_id=people[u][1],
                device_time=moment,
                received_at=moment,
                outcome=outcome,
                business_date=first + timedelta(days=d),
                verified=verified,
                flags=flags,
            )
            for u, c, d, outcome, verified, flags in rows
        )
        session.flush()
        for week in (W47, W48, W49):
            found = {
                r.collector_id: counts(r) for r in visit_counts.weekly_visits(session, week).rows
            }
            for n, (user_id, _) in enumerate(people):
                mine = [
                    r
                    for r in rows
                    if r[0] == n and IsoWeek.of(first + timedelta(days=r[2])) == week
                ]
                assert found[user_id] == (
                    len(mine),
                    sum(1 for r in mine if r[3] in EFFECTIVE_OUTCOMES),
                    sum(1 for r in mine if r[4]),
                    len({r[1] for r in mine}),
                    sum(1 for r in mine if r[5] not in ("", "no_fix")),
                )
        year = visit_counts.collector_weeks(session, people[0][0], 2026)
        assert sum(w.visits for w in year) == sum(1 for r in rows if r[0] == 0)
    finally:
        savepoint.rollback()
