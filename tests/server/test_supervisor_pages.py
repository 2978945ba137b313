"""The supervisor's pages over the real app on both engines: the cookie login and its guards, a
collector's day worked out by hand (plan, visits in order, a far visit, a void, a promise), the
team's week, the map document, resolving a review item, reassigning a client, a statement (page
and PDF) and the weekly visits export."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Client, ReviewItem
from server.services.collector_day import collector_day
from server.services.team_week import team_week
from server.settings import Settings
from server.web import deps as web_deps
from server.web.cookies import LOGIN_COOKIE, SESSION_COOKIE, csrf_token
from shared.calendar import IsoWeek
from sync.protocol import NO_CLIENT
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import (
    MakeUser,
    event,
    invoice,
    payment,
    push,
    register_phone,
    statuses,
    void,
)

DAY = date(2026, 11, 20)  # a Friday, no holiday
RECEIVED = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)  # 17:00 in Bogotá, after the visits
D = Decimal


def at(hhmm: str) -> str:
    return f"2026-11-20T{hhmm}:00-05:00"


def cookie(login: Login, settings: Settings) -> dict[str, str]:
    token = login.headers["Authorization"].removeprefix("Bearer ")
    return {"Cookie": f"{SESSION_COOKIE}={token}"}


def csrf(login: Login, settings: Settings) -> str:
    return csrf_token(login.headers["Authorization"].removeprefix("Bearer "), settings.signing_key)


@dataclass
class Day:
    collector: Login
    office: Login
    clients: dict[str, Client]
    far_visit: str


@pytest.fixture
def web_clock(app: FastAPI, clock: FakeClock) -> FakeClock:
    clock.now = RECEIVED
    app.dependency_overrides[web_deps.get_clock] = lambda: clock
    return clock


@pytest.fixture
def worked_day(
    client: TestClient,
    session: Session,
    make_user: MakeUser,
    make_client: Any,
    web_clock: FakeClock,
) -> Day:
    """Plan A, B, D (E left out for time); visited B (paid 200.000, promised 300.000), then A
    from 2 km away (paid 50.000, voided), then E (not in the plan)."""
    collector = make_user("collector")
    office = make_user("supervisor")
    places = {"A": (4.65, -74.06), "B": (4.66, -74.05), "D": (4.67, -74.07), "E": (4.64, -74.08)}
    clients = {
        name: make_client(
            code=f"C-{name}-{uuid.uuid4().hex[:4]}",
            name=f"Cliente {name}",
            collector=collector.user,
            lat=lat,
            lon=lon,
        )
        for name, (lat, lon) in places.items()
    }
    invoice(session, clients["A"], f"FA-{uuid.uuid4().hex[:6]}", date(2026, 9, 1), "1000000.00")
    invoice(session, clients["B"], f"FB-{uuid.uuid4().hex[:6]}", date(2026, 10, 1), "500000.00")
    phone = register_phone(client, collector)
    ids = {k: str(c.id) for k, c in clients.items()}
    plan = event(
        phone,
        "route.planned",
        NO_CLIENT,
        {
            "plan_date": DAY.isoformat(),
            "stops": [ids["A"], ids["B"], ids["D"]],
            "skipped": [{"client_id": ids["E"], "reason": "no_time"}],
            "distance_m": 4200.0,
        },
        device_time=at("07:40"),
    )

    def visit(name: str, outcome: str, time: str, lat: float, lon: float) -> dict[str, Any]:
        payload = {"outcome": outcome, "lat": lat, "lon": lon, "accuracy_m": 10.0, "notes": ""}
        return event(phone, "visit.recorded", ids[name], payload, device_time=at(time))

    v_b = visit("B", "payment", "09:00", 4.66012, -74.05)  # about 13 m from B
    v_a = visit("A", "contacted", "10:00", 4.668, -74.06)  # about 2 km from A
    v_e = visit("E", "not_found", "11:00", 4.64015, -74.08)
    pay_b = payment(
        phone,
        ids["B"],
        "200000.00",
        device_time=at("09:04"),
        payload={"visit_event_id": v_b["event_id"]},
    )
    promise_b = event(
        phone,
        "promise.made",
        ids["B"],
        {"amount": "300000.00", "due_date": "2026-11-27", "visit_event_id": v_b["event_id"]},
        device_time=at("09:05"),
    )
    pay_a = payment(phone, ids["A"], "50000.00", device_time=at("10:05"))
    void_a = void(phone, ids["A"], pay_a["event_id"])
    void_a["device_time"] = at("10:10")
    r = push(client, phone, [plan, v_b, pay_b, promise_b, v_a, pay_a, void_a, v_e])
    assert [s for s, _ in statuses(r)] == ["applied"] * 8
    return Day(collector, office, clients, v_a["event_id"])


def test_the_day_worked_out_by_hand(session: Session, worked_day: Day, settings: Settings) -> None:
    d = collector_day(session, worked_day.collector.user.username, DAY, settings.tz)
    c = worked_day.clients
    assert [(v.number, v.client.client_id, v.planned_position) for v in d.visits] == [
        (1, c["B"].id, 2),
        (2, c["A"].id, 1),
        (3, c["E"].id, None),
    ]
    assert [(s.position, s.client.client_id, s.visits) for s in d.stops] == [
        (1, c["A"].id, (2,)),
        (2, c["B"].id, (1,)),
        (3, c["D"].id, ()),
    ]
    assert d.stops_done == 2
    assert [(s.client.client_id, s.reason) for s in d.skipped] == [(c["E"].id, "no_time")]
    assert [v.number for v in d.flagged_visits] == [2]
    assert "far_from_client" in d.visits[1].flags
    assert d.visits[1].distance_m is not None and 1900 < d.visits[1].distance_m < 2100
    # B's payment hangs on its visit; A's (no visit id) on the visit to A before it, voided.
    assert [(p.amount, p.voided) for p in d.visits[0].payments] == [(D("200000.00"), False)]
    assert [(p.amount, p.voided) for p in d.visits[1].payments] == [(D("50000.00"), True)]
    assert [(p.amount, p.due_date) for p in d.visits[0].promises] == [
        (D("300000.00"), date(2026, 11, 27))
    ]
    assert d.collected == D("200000.00")
    assert d.effective_contacts == 2  # payment at B, contacted at A
    assert d.verified_visits == 2  # B and E; A is 2 km away
    assert d.unplanned_visits == [d.visits[2]]
    assert d.loose_payments == []
    assert d.planned_distance_m == 4200.0


def test_the_team_week_adds_money_and_promises(
    session: Session, worked_day: Day, settings: Settings
) -> None:
    week = team_week(session, IsoWeek.of(DAY), settings.tz, settings.timezone)
    row = next(r for r in week.rows if r.counts.collector == worked_day.collector.user.username)
    assert (row.counts.visits, row.counts.effective_contacts, row.counts.verified_visits) == (
        3,
        2,
        2,
    )
    assert (row.counts.clients_visited, row.counts.flagged_visits) == (3, 1)
    assert (row.collected, row.payments) == (D("200000.00"), 1)  # the voided 50.000 left out
    assert (row.promises, row.promised) == (1, D("300000.00"))
    assert row.per_day[DAY] == 3 and sum(row.per_day.values()) == 3


def test_pages_of_the_day_and_week(client: TestClient, worked_day: Day, settings: Settings) -> None:
    headers = cookie(worked_day.office, settings)
    username = worked_day.collector.user.username
    page = client.get(f"/supervisor/collectors/{username}/days/{DAY.isoformat()}", headers=headers)
    assert page.status_code == 200, page.text
    html = page.text
    assert "Cliente B" in html and "$ 200.000" in html and "Promesa $ 300.000 · 27/11/2026" in html
    assert html.count('class="flagged"') == 1 and "lejos del cliente" in html
    assert "2 de 3" in html  # stops done of planned
    assert "no alcanzó el tiempo" in html and "fuera del plan" in html
    assert "viernes 20 de noviembre de 2026" in html

    doc = client.get(
        f"/supervisor/collectors/{username}/days/{DAY.isoformat()}/map", headers=headers
    )
    assert doc.status_code == 200
    assert doc.text.count('"className": "visit-marker') == 3
    assert doc.text.count('"className": "visit-marker outcome-contacted flagged"') == 1
    assert doc.text.count('"className": "visit-line"') == 1
    assert doc.text.count('"className": "plan-line"') == 1
    assert doc.text.count('class=\\"stop-number') == 3
    assert "/supervisor/static/leaflet/leaflet.js" in doc.text
    external = set(re.findall(r'(?:src|href)="(https?://[^"]+)"', doc.text))
    assert external == set(), "Leaflet comes from this server"
    assert "$ 200.000" in doc.text  # the payment in its visit's popup

    week = client.get("/supervisor/", params={"week": "2026-W47"}, headers=headers)
    assert week.status_code == 200
    assert f"/supervisor/collectors/{username}/days/2026-11-20" in week.text
    assert "$ 200.000" in week.text and "<svg" in week.text
    # Recovery: 200.000 paid on B's overdue invoice of the 1.500.000 overdue on Monday (A and B).
    assert "Indicadores de la semana" in week.text and "13,3 %" in week.text


def test_login_sets_a_strict_httponly_cookie(
    client: TestClient, make_user: MakeUser, web_clock: FakeClock
) -> None:
    office = make_user("supervisor")
    form = client.get("/supervisor/login", params={"next": "/supervisor/review"})
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce is not None and form.cookies.get(LOGIN_COOKIE) == nonce[1]
    data = {
        "username": office.user.username,
        "password": office.password,
        "nonce": nonce[1],
        "next": "/supervisor/review",
    }
    r = client.post("/supervisor/login", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/supervisor/review"
    set_cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)]
    assert len(set_cookie) == 1
    flags = set_cookie[0].lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/supervisor" in flags
    assert "secure" not in flags  # plain http here; https gets Secure
    assert client.get("/supervisor/review").status_code == 200


@pytest.mark.parametrize(
    ("who", "password", "status", "text"),
    [
        ("collector", None, 403, "gestores usan la aplicación"),
        ("supervisor", "otra-clave-mala", 401, "usuario o contraseña incorrectos"),
    ],
)
def test_login_refusals(
    client: TestClient,
    make_user: MakeUser,
    web_clock: FakeClock,
    who: str,
    password: str | None,
    status: int,
    text: str,
) -> None:
    user = make_user(who)
    client.get("/supervisor/login")
    nonce = client.cookies.get(LOGIN_COOKIE)
    data = {"username": user.user.username, "password": password or user.password, "nonce": nonce}
    r = client.post("/supervisor/login", data=data, follow_redirects=False)
    assert r.status_code == status and text in r.text
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")


def test_login_without_the_forms_token_and_a_foreign_next(
    client: TestClient, make_user: MakeUser, web_clock: FakeClock
) -> None:
    office = make_user("admin")
    data = {"username": office.user.username, "password": office.password, "nonce": "forged"}
    r = client.post("/supervisor/login", data=data, follow_redirects=False)
    assert r.status_code == 403 and "venció" in r.text
    client.get("/supervisor/login")
    data |= {"nonce": client.cookies.get(LOGIN_COOKIE), "next": "//evil.example/x"}
    r = client.post("/supervisor/login", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/supervisor/"


def test_a_post_needs_the_sessions_form_token(
    client: TestClient, worked_day: Day, settings: Settings, session: Session
) -> None:
    c = worked_day.clients["D"]
    url = f"/supervisor/clients/{c.id}/assignment"
    headers = cookie(worked_day.office, settings)
    other = csrf(worked_day.collector, settings)  # another session's token
    for token in ("", other):
        r = client.post(url, data={"collector": "", "csrf": token}, headers=headers)
        assert r.status_code == 403 and "formulario" in r.text
    session.expire_all()
    assert session.get(Client, c.id).collector_id == worked_day.collector.user.id  # type: ignore[union-attr]


def test_resolve_a_flagged_visit_and_reassign_a_client(
    client: TestClient,
    worked_day: Day,
    settings: Settings,
    session: Session,
    make_user: MakeUser,
) -> None:
    headers = cookie(worked_day.office, settings)
    token = csrf(worked_day.office, settings)
    queue = client.get("/supervisor/review", params={"kind": "flagged_visit"}, headers=headers)
    item = session.scalars(
        select(ReviewItem).where(ReviewItem.event_id == uuid.UUID(worked_day.far_visit))
    ).one()
    assert f'id="item-{item.id}"' in queue.text and "lejos del cliente" in queue.text
    r = client.post(
        f"/supervisor/review/{item.id}/resolve",
        data={"resolution": "justified", "note": "El cliente se mudó", "csrf": token},
        headers=headers,
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/supervisor/review?done={item.id}"
    session.expire_all()
    resolved = session.get(ReviewItem, item.id)
    assert resolved is not None
    assert (resolved.status, resolved.resolution, resolved.note) == (
        "resolved",
        "justified",
        "El cliente se mudó",
    )
    again = client.post(
        f"/supervisor/review/{item.id}/resolve",
        data={"resolution": "justified", "csrf": token},
        headers=headers,
    )
    assert again.status_code == 409  # an HTML page, not the API's JSON
    assert again.headers["content-type"].startswith("text/html")

    newcomer = make_user("collector")
    c = worked_day.clients["D"]
    r = client.post(
        f"/supervisor/clients/{c.id}/assignment",
        data={
            "collector": newcomer.user.username,
            "csrf": token,
            "back": "/supervisor/clients?q=D",
        },
        headers=headers,
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/supervisor/clients?q=D&done={c.code}"
    session.expire_all()
    assert session.get(Client, c.id).collector_id == newcomer.user.id  # type: ignore[union-attr]


def test_statement_page_pdf_and_export(
    client: TestClient, worked_day: Day, settings: Settings
) -> None:
    headers = cookie(worked_day.office, settings)
    b = worked_day.clients["B"]
    page = client.get(
        f"/supervisor/clients/{b.id}/statement", params={"as_of": "2026-11-21"}, headers=headers
    )
    assert page.status_code == 200
    # 500.000 charged, 200.000 paid on 20/11: 300.000 left.
    assert "$ 300.000" in page.text and "Recibo K7Q-" in page.text and "window.print()" in page.text
    pdf = client.get(
        f"/supervisor/clients/{b.id}/statement.pdf", params={"as_of": "2026-11-21"}, headers=headers
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Cliente B" in text and "300.000" in text and "21/11/2026" in text

    xlsx = client.get(
        "/supervisor/exports/weekly-visits.xlsx", params={"week": "2026-W47"}, headers=headers
    )
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    mine = next(r for r in rows if r and r[0] == worked_day.collector.user.username)
    assert mine[2:7] == (3, 2, 2, 3, 1)


def test_anonymous_pages_go_to_the_login_and_a_collector_is_refused(
    client: TestClient, worked_day: Day, settings: Settings
) -> None:
    r = client.get("/supervisor/clients", params={"q": "x"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/supervisor/login?next=/supervisor/clients%3Fq%3Dx"
    r = client.get("/supervisor/", headers=cookie(worked_day.collector, settings))
    assert r.status_code == 403 and "celular" in r.text
    bad = client.get(
        "/supervisor/collectors/nobody/days/2026-11-20", headers=cookie(worked_day.office, settings)
    )
    assert bad.status_code == 404 and bad.headers["content-type"].startswith("text/html")
    bad = client.get(
        "/supervisor/", params={"week": "2026-W99"}, headers=cookie(worked_day.office, settings)
    )
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("url", "params", "kind"),
    [
        ("/supervisor/exports/weekly-management.xlsx", {"week": "2026-W47"}, "xlsx"),
        ("/supervisor/exports/weekly-management.pdf", {"week": "2026-W47"}, "pdf"),
        ("/supervisor/exports/kpis.xlsx", {"from": "2026-11-01", "to": "2026-11-22"}, "xlsx"),
        (
            "/supervisor/exports/commissions.xlsx",
            {"from": "2026-11-01", "to": "2026-11-30"},
            "xlsx",
        ),
        ("/supervisor/exports/commissions.pdf", {"from": "2026-11-01", "to": "2026-11-30"}, "pdf"),
    ],
)
def test_the_reports_download_with_the_cookie(
    client: TestClient,
    worked_day: Day,
    settings: Settings,
    url: str,
    params: dict[str, str],
    kind: str,
) -> None:
    r = client.get(url, params=params, headers=cookie(worked_day.office, settings))
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    if kind == "pdf":
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
        who = worked_day.collector.user
        assert who.username in text or who.full_name in text
    else:
        book = load_workbook(io.BytesIO(r.content))
        cells = [c for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row]
        assert worked_day.collector.user.username in cells
