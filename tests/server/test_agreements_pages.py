"""The supervisor's agreements pages over the real app on both engines: the list grouped as the
supervisor works (to approve, broken, on track), approve/reject/cancel forms, and creating an
agreement with es-CO amounts (errors shown on the form, nothing written)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import PaymentAgreement
from server.settings import Settings
from server.web import deps as web_deps
from server.web.cookies import SESSION_COOKIE, csrf_token
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import MakeUser, Phone, event, push, register_phone, statuses

BOGOTA = ZoneInfo("America/Bogota")


@pytest.fixture
def office(make_user: MakeUser, app: FastAPI, clock: FakeClock) -> Login:
    app.dependency_overrides[web_deps.get_clock] = lambda: clock
    return make_user("supervisor")


@pytest.fixture
def phone(client: TestClient, make_user: MakeUser) -> Phone:
    return register_phone(client, make_user("collector"))


def token(login: Login) -> str:
    return login.headers["Authorization"].removeprefix("Bearer ")


def get(client: TestClient, login: Login, url: str) -> Any:
    return client.get(url, headers={"Cookie": f"{SESSION_COOKIE}={token(login)}"})


def post(
    client: TestClient, login: Login, settings: Settings, url: str, data: dict[str, Any]
) -> Any:
    form = {**data, "csrf": csrf_token(token(login), settings.signing_key)}
    return client.post(
        url,
        data=form,
        headers={"Cookie": f"{SESSION_COOKIE}={token(login)}"},
        follow_redirects=False,
    )


def propose(client: TestClient, phone: Phone, client_id: Any, clock: FakeClock, first: int) -> str:
    day = clock.now.astimezone(BOGOTA).date()
    payload = {
        "installments": [
            {"due_date": (day + timedelta(days=first)).isoformat(), "amount": "100000.00"},
            {"due_date": (day + timedelta(days=30)).isoformat(), "amount": "100000.00"},
        ],
        "notes": "propuesta en la visita",
    }
    when = (clock.now - timedelta(days=7)).isoformat()
    ev = event(phone, "agreement.proposed", client_id, payload, device_time=when)
    assert statuses(push(client, phone, [ev])) == [("applied", None)]
    return str(ev["event_id"])


def headings(html: str) -> list[str]:
    return re.findall(r'<h2 class="group-([a-z_]+)">', html)


def test_the_list_groups_proposals_then_broken_then_on_track_and_decides(
    client: TestClient,
    session: Session,
    settings: Settings,
    office: Login,
    phone: Phone,
    make_client,
    clock: FakeClock,
) -> None:
    a, b, c = (make_client(collector=phone.user, name=f"Cliente {n}") for n in "ABC")
    broken = propose(client, phone, a.id, clock, first=-5)  # due five days ago: missed
    fine = propose(client, phone, b.id, clock, first=10)
    waiting = propose(client, phone, c.id, clock, first=12)
    for agreement_id in (broken, fine):
        r = post(client, office, settings, f"/supervisor/agreements/{agreement_id}/approve", {})
        assert (r.status_code, r.headers["location"]) == (
            303,
            f"/supervisor/agreements?done=aprobado#agreement-{agreement_id}",
        )
    page = get(client, office, "/supervisor/agreements")
    assert page.status_code == 200
    assert headings(page.text) == ["proposed", "broken", "on_track"]
    order = [page.text.index(f'id="agreement-{x}"') for x in (waiting, broken, fine)]
    assert order == sorted(order)
    assert "incumplida" in page.text and "$ 100.000" in page.text
    review = get(client, office, "/supervisor/review").text
    assert "1 acuerdo(s) de pago incumplido(s)" in review  # the queue points at them
    only_broken = get(client, office, "/supervisor/agreements?standing=broken").text
    assert headings(only_broken) == ["broken"] and broken in only_broken and fine not in only_broken

    # Rejecting needs a note: an error page, nothing changed; with one it is rejected.
    r = post(client, office, settings, f"/supervisor/agreements/{waiting}/reject", {"note": ""})
    assert r.status_code == 422 and "motivo" in r.text
    r = post(
        client, office, settings, f"/supervisor/agreements/{waiting}/reject", {"note": "muy largo"}
    )
    assert r.status_code == 303
    r = post(
        client, office, settings, f"/supervisor/agreements/{broken}/cancel", {"note": "incumplió"}
    )
    assert r.status_code == 303
    assert headings(get(client, office, "/supervisor/agreements").text) == ["on_track"]
    assert "incumplido(s)" not in get(client, office, "/supervisor/review").text
    closed = get(client, office, "/supervisor/agreements?status=closed").text
    assert headings(closed) == ["rejected", "cancelled"] and "muy largo" in closed


def test_creating_an_agreement_from_the_client_page(
    client: TestClient,
    session: Session,
    settings: Settings,
    office: Login,
    make_client,
    clock: FakeClock,
) -> None:
    c = make_client(code="C-ACU-1")
    statement = get(client, office, f"/supervisor/clients/{c.id}/statement").text
    assert f"/supervisor/agreements/new?client_id={c.id}" in statement
    form = get(client, office, f"/supervisor/agreements/new?client_id={c.id}")
    assert form.status_code == 200 and 'value="C-ACU-1"' in form.text
    day = clock.now.astimezone(BOGOTA).date()

    def dues(*offsets: int) -> list[str]:
        return [(day + timedelta(days=n)).isoformat() for n in offsets]

    bad = post(
        client,
        office,
        settings,
        "/supervisor/agreements/new",
        {"client_code": "C-ACU-1", "due": dues(20, 10), "amount": ["$ 1.000", "2.000"]},
    )
    assert bad.status_code == 422 and "Cuotas no válidas" in bad.text
    assert 'value="$ 1.000"' in bad.text  # what was typed stays in the form
    unreadable = post(
        client,
        office,
        settings,
        "/supervisor/agreements/new",
        {"client_code": "C-ACU-1", "due": dues(5), "amount": ["mil pesos"]},
    )
    assert unreadable.status_code == 422 and "Cuota 1" in unreadable.text
    assert session.scalar(select(func.count()).select_from(PaymentAgreement)) == 0

    ok = post(
        client,
        office,
        settings,
        "/supervisor/agreements/new",
        {
            "client_code": "C-ACU-1",
            "due": [*dues(5, 35), "", ""],
            "amount": ["$ 150.000", "150.000,50", "", ""],
            "notes": "firmado en oficina",
        },
    )
    assert ok.status_code == 303, ok.text
    session.expire_all()
    (agreement,) = session.scalars(select(PaymentAgreement)).all()
    assert (agreement.status, agreement.origin, str(agreement.total)) == (
        "active",
        "office",
        "300000.50",
    )
    listed = get(client, office, "/supervisor/agreements").text
    assert headings(listed) == ["on_track"] and "$ 300.000,50" in listed
    again = post(
        client,
        office,
        settings,
        "/supervisor/agreements/new",
        {"client_code": "C-ACU-1", "due": dues(3), "amount": ["1000"]},
    )
    assert again.status_code == 422 and "ya tiene un acuerdo activo" in again.text


def test_unknown_client_code_and_agreement_are_clear_errors(
    client: TestClient, settings: Settings, office: Login, clock: FakeClock
) -> None:
    day = date.fromisoformat(clock.now.astimezone(BOGOTA).date().isoformat())
    r = post(
        client,
        office,
        settings,
        "/supervisor/agreements/new",
        {"client_code": "C-NADIE", "due": [day.isoformat()], "amount": ["100"]},
    )
    assert r.status_code == 422 and "C-NADIE" in r.text
    missing = post(
        client,
        office,
        settings,
        f"/supervisor/agreements/{'0' * 8}-0000-4000-8000-{'0' * 12}/approve",
        {},
    )
    assert missing.status_code == 404
