"""The day route on the phone: candidates and priorities, the planner's order on Hoy and Mapa,
skipped stops with Spanish reasons, re-planning after a visit, and the chosen plan kept with its
`route.planned` event in one transaction, syncing once, without upsetting any per-client view.

Worked example (three shops due east of the start on one parallel, 0.01 degree of longitude
apart, at latitude 4.6): haversine 6,371,008.8 m x cos(4.6 deg) x 0.01 x pi/180 = 1,108.4 m a
leg, times the 1.3 detour = 1,440.9 m, at 18 km/h (5 m/s) = 288.2 s, ceil 289 s. Starting at
10:21:07 with 15 minutes a visit: A at 10:25:56, B at 10:45:45, C at 11:05:35."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import ClientMirror, OutboxRow, RoutePlanRow, SyncState
from mobile.services import recording
from mobile.services.balances import visible_balances
from mobile.services.exporting import push_bodies
from mobile.services.routes import NO_CLIENT_ID, load_route_plan, record_route_plan
from mobile.services.syncing import sync_once
from mobile.state.app import AppState
from mobile.state.mapview import map_view
from mobile.state.route import NO_LOCATION
from server.db.models import RoutePlan
from shared.contact_rules import load_rules
from shared.geo import Fix, Point
from shared.routing import Plan, PlanRequest, plan_route
from sync.protocol import NO_CLIENT, PushRequest
from tests.mobile.conftest import MORNING
from tests.mobile.fake_server import FakeServer
from tests.mobile.live import enroll
from tests.mobile.test_state_app import FakeEnroller
from tests.mobile.test_state_clients import add_client
from tests.server.sync_helpers import MakeUser

START = Point(4.6, -74.10)
LEG = 289  # seconds, see the module docstring


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return MORNING.replace(hour=hh, minute=mm, second=ss)


def shops(db: sessionmaker[Session]) -> dict[str, str]:
    return {
        name: add_client(db, f"Tienda {name}", "100000", overdue_days=(40,), lat=4.6, lon=lon)
        for name, lon in (("A", -74.09), ("B", -74.08), ("C", -74.07))
    }


def planner_app(db: sessionmaker[Session], now: datetime = MORNING, **changes: object) -> AppState:
    app = AppState(
        db=db,
        clock=lambda: now,
        enroller=FakeEnroller(),
        contact_rules=load_rules("CO"),
        route_start=START,
        **changes,  # type: ignore[arg-type]
    )
    app.start()
    return app


def test_all_fit_in_the_nearest_order_with_the_hand_computed_arrivals(
    db: sessionmaker[Session],
) -> None:
    ids = shops(db)
    app = planner_app(db)
    assert app.route is None and app.plan_route()
    assert app.message == "Ruta planeada: 3 paradas, 0 fuera de la ruta"
    plan = app.route
    assert plan is not None and plan.order == (ids["A"], ids["B"], ids["C"])
    assert [plan.arrivals[ids[n]] for n in "ABC"] == [
        at(10, 25, 56),
        at(10, 25, 56) + timedelta(seconds=900 + LEG),
        at(10, 25, 56) + timedelta(seconds=2 * (900 + LEG)),
    ]
    assert plan.distance_m == pytest.approx(3 * 1440.9, abs=2)
    assert [(r.name, r.stop_no) for r in app.rows] == [
        ("Tienda A", 1),
        ("Tienda B", 2),
        ("Tienda C", 3),
    ]
    assert app.rows[0].eta == at(10, 25, 56)


def test_a_promise_due_today_wins_the_only_slot_and_the_rest_say_why(
    db: sessionmaker[Session],
) -> None:
    """Day end 11:00: C alone arrives 10:35:32 (3 legs, 865 s) and ends 10:50:32; any second
    stop would end after 11:00. Priorities (shared/routing/priority.py): 1 base + 0 for a
    $ 10.000 overdue invoice (the floor) + 2 buckets x 5 (31-60 days) + 20 never visited = 31;
    C's promise due today adds 100: 131 takes the slot."""
    ids = shops(db)
    nowhere = add_client(db, "Sin Mapa", "500000", overdue_days=(90,))
    recording.record_promise(
        db, client_id=ids["C"], amount=Decimal(50000), due_date=MORNING.date(), now=MORNING
    )
    app = planner_app(db, day_end=time(11, 0))
    assert [r.priority for r in app.rows if r.name.startswith("Tienda")] == [131.0, 31.0, 31.0]
    assert app.plan_route()
    plan = app.route
    assert plan is not None and plan.order == (ids["C"],)
    assert plan.arrivals[ids["C"]] == at(10, 35, 32)
    assert dict(plan.skipped) == {ids["A"]: "no_time", ids["B"]: "no_time", nowhere: NO_LOCATION}
    assert [(r.name, r.stop_no, r.skip_reason) for r in app.rows] == [
        ("Tienda C", 1, None),
        ("Sin Mapa", None, NO_LOCATION),  # left out: highest priority first
        ("Tienda A", None, "no_time"),
        ("Tienda B", None, "no_time"),
    ]
    assert app.t(f"reason.{app.rows[2].skip_reason}") == "no alcanza el tiempo hoy"


def test_outside_legal_hours_nothing_is_planned_and_every_stop_says_so(
    db: sessionmaker[Session],
) -> None:
    shops(db)
    app = planner_app(db, now=at(19, 30))  # Monday 19:30 in Bogotá: past the legal hours
    assert app.plan_route()
    assert app.route is not None and app.route.order == ()
    reasons = {reason for _, reason in app.route.skipped}
    assert reasons and reasons <= {"outside_legal_hours", "day_end"}
    assert all(r.skip_reason in reasons for r in app.rows)


def test_replan_from_here_after_a_visit_leaves_the_visited_stop_out(
    db: sessionmaker[Session],
) -> None:
    ids = shops(db)
    app = planner_app(db)
    assert app.plan_route()
    first = app.route
    app.open_client(ids["A"])
    app.start_visit()
    app.visit.outcome = "contacted"
    assert app.save_visit()
    app.set_position(Fix(Point(4.6, -74.09), 10))  # at shop A
    assert app.plan_route()
    second = app.route
    assert first is not None and second is not None and second.event_id != first.event_id
    assert second.order == (ids["B"], ids["C"]) and second.start == Point(4.6, -74.09)
    assert second.arrivals[ids["B"]] == MORNING + timedelta(seconds=LEG)
    assert [(r.name, r.stop_no, r.visited_today) for r in app.rows] == [
        ("Tienda B", 1, False),
        ("Tienda C", 2, False),
        ("Tienda A", None, True),
    ]
    with db() as session:
        types = session.scalars(select(OutboxRow.type).order_by(OutboxRow.device_seq)).all()
    assert types == ["route.planned", "visit.recorded", "route.planned"]


def test_closed_and_paid_up_clients_are_not_stops(db: sessionmaker[Session]) -> None:
    paid = add_client(db, "Al Día", "0", lat=4.6, lon=-74.09)
    closed = add_client(db, "Cerrada", "100000", overdue_days=(40,), lat=4.6, lon=-74.08)
    with db.begin() as session:
        mirror = session.get(ClientMirror, closed)
        assert mirror is not None
        mirror.status = "closed"
    app = planner_app(db)
    assert app.plan_route()
    assert app.route is not None and app.route.order == () and app.route.skipped == ()
    assert {r.id for r in app.rows} == {paid, closed}


def test_the_map_draws_the_planned_order_from_the_plan_start(db: sessionmaker[Session]) -> None:
    ids = shops(db)
    app = planner_app(db)
    assert app.plan_route()
    assert app.route is not None
    view = map_view(app.rows, {r.id: r for r in app.records}, None, route_start=app.route.start)
    assert view.planned and [(s.order, s.client_id) for s in view.stops] == [
        (1, ids["A"]),
        (2, ids["B"]),
        (3, ids["C"]),
    ]
    assert view.route == (START, Point(4.6, -74.09), Point(4.6, -74.08), Point(4.6, -74.07))
    # The area shown: the line's extent plus 8 % of its span on each side (0.03 deg wide).
    assert view.bounds is not None
    (south, west), (north, east) = [(p.lat, p.lon) for p in view.bounds]
    assert (south, north) == (4.6, 4.6)
    assert (west, east) == pytest.approx((-74.1024, -74.0676))


def test_plan_and_event_are_written_together_or_not_at_all(
    db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = uuid.uuid4()
    with db.begin() as session:
        session.add(
            RoutePlanRow(
                event_id=str(taken),
                plan_date=MORNING.date(),
                planned_at=MORNING,
                stops=[],
                skipped=[],
            )
        )
    monkeypatch.setattr(recording.uuid, "uuid4", lambda: taken)  # the plan row will collide
    with pytest.raises(IntegrityError):
        record_route_plan(
            db,
            plan_date=MORNING.date(),
            order=[],
            arrivals={},
            skipped=[],
            distance_m=0.0,
            start=START,
            now=MORNING,
        )
    with db() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 0
        state = session.get(SyncState, 1)
        assert state is not None and state.next_device_seq == 1  # the seq was not used


def test_route_planned_fits_every_per_client_path_and_syncs_once(
    db: sessionmaker[Session],
) -> None:
    ids = shops(db)
    app = planner_app(db)
    app.open_client(ids["A"])
    app.start_payment()
    app.payment.amount = "10.000"
    assert app.review_payment() and app.confirm_payment()
    assert app.plan_route()
    assert app.pending == 2
    # Sincronización: a named row, not a client id.
    (route_row, payment_row) = app.sync_view().rows
    assert (route_row.type, route_row.client_name, route_row.amount) == (
        "route.planned",
        "Ruta del día",
        None,
    )
    assert payment_row.client_name == "Tienda A"
    # Balances, Hoy's rows, the client's detail and the week ignore it.
    with db() as session:
        balances = visible_balances(session)
        bodies = push_bodies(session, app_version="test")
    assert NO_CLIENT_ID not in balances and balances[ids["A"]] == Decimal("90000.00")
    assert NO_CLIENT_ID not in {r.id for r in app.rows}
    week = app.week()
    assert (week.payments, week.visits, week.clients_visited) == (1, 0, 0)
    # The export file and the push carry it as the protocol's event about no client.
    request = PushRequest.model_validate(bodies[0])
    planned = request.events[1]
    assert planned.type == "route.planned" and planned.client_id == NO_CLIENT
    assert [str(s) for s in planned.payload.stops] == [ids["A"], ids["B"], ids["C"]]
    server = FakeServer()
    assert sync_once(db, server, now=lambda: MORNING).ok
    assert sync_once(db, server, now=lambda: MORNING).ok
    assert len(server.recorded) == 2 and [len(p) for p in server.pushes] == [2]
    reopened = planner_app(db)
    assert reopened.pending == 0 and reopened.route == app.route  # kept, plan and all


def test_the_stored_plan_is_the_newest_of_its_day(db: sessionmaker[Session]) -> None:
    ids = shops(db)
    for order in ([ids["A"]], [ids["B"], ids["A"]]):
        record_route_plan(
            db,
            plan_date=MORNING.date(),
            order=order,
            arrivals=dict.fromkeys(order, MORNING),
            skipped=[(ids["C"], "no_time")],
            distance_m=100.0,
            start=None,
            now=MORNING,  # the same instant: the later device_seq wins
        )
    plan = load_route_plan(db, MORNING.date())
    assert plan is not None and plan.order == (ids["B"], ids["A"]) and plan.start is None
    assert load_route_plan(db, MORNING.date() + timedelta(days=1)) is None
    with db() as session:
        payloads = [json.loads(p) for p in session.scalars(select(OutboxRow.payload))]
    assert payloads[0]["skipped"] == [{"client_id": ids["C"], "reason": "no_time"}]


def test_the_real_server_keeps_the_plan_once(
    client: TestClient, session: Session, make_user: MakeUser, tmp_path: Path
) -> None:
    phone = enroll(client, make_user("collector"), tmp_path / "phone.db")
    ids = shops(phone.db)
    app = planner_app(phone.db)
    assert app.plan_route() and app.route is not None
    assert phone.sync().ok
    assert phone.sync().ok  # nothing left: not sent again
    session.expire_all()
    (stored,) = session.scalars(select(RoutePlan)).all()
    assert (str(stored.event_id), stored.plan_date) == (app.route.event_id, MORNING.date())
    assert stored.stops == [ids["A"], ids["B"], ids["C"]] and stored.skipped == []
    assert stored.distance_m == pytest.approx(app.route.distance_m)
    with phone.db() as local:
        (row,) = local.scalars(select(OutboxRow)).all()
    assert (row.state, row.client_id) == ("acked", NO_CLIENT_ID)


def test_a_stop_listed_twice_by_the_planner_is_visited_once(db: sessionmaker[Session]) -> None:
    ids = shops(db)

    def stutters(request: PlanRequest) -> Plan:
        plan = plan_route(request)
        return replace(plan, order=(*plan.order, plan.order[0]))

    app = planner_app(db, planner=stutters)
    assert app.plan_route()
    assert app.route is not None and app.route.order == (ids["A"], ids["B"], ids["C"])
    assert [r.stop_no for r in app.rows] == [1, 2, 3]
