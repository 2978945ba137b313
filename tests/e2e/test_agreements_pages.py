"""Payment agreements in a real Chromium over the demo (a real `recaudo serve` process): a demo
collector's phone (through the API) proposes two agreements; the supervisor approves the one
written a week ago, whose first installment fell due three days ago unpaid, and sees it broken
(one installment missed); rejects the other with a note; the phone then collects the missed
installment and the agreement is back on track; finally the supervisor creates an agreement from
a client's statement page. Screenshots at the phone (390x844) and desktop sizes under
test-artifacts/screenshots/issue7-agreements-*.png."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from server.cli.demo import build_demo
from server.settings import Settings
from shared.calendar import business_tz
from tests.e2e.live import ARTIFACTS, CHROMIUM_ARGS, chromium_path, running_server

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SHOTS = ARTIFACTS / "screenshots"
BOGOTA = business_tz()


def shoot(page: Page, name: str) -> None:
    for size, suffix in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(size)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"issue7-agreements-{name}-{suffix}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


class FieldPhone:
    """A demo collector's phone talking to the live server through the sync API."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        r = self.http.post("/v1/auth/token", data={"username": username, "password": password})
        r.raise_for_status()
        user = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = self.http.post(
            "/v1/devices", json={"name": "e2e", "install_nonce": uuid.uuid4().hex}, headers=user
        )
        r.raise_for_status()
        self.device = r.json()
        self.clients = self.http.get("/v1/clients", params={"limit": 50}, headers=user).json()[
            "items"
        ]
        self.seq = 0

    def push(self, kind: str, client_id: str, payload: dict[str, Any], at: datetime) -> str:
        self.seq += 1
        ev = {
            "event_id": str(uuid.uuid4()),
            "device_seq": self.seq,
            "type": kind,
            "type_version": 1,
            "client_id": client_id,
            "device_time": at.astimezone(BOGOTA).isoformat(timespec="seconds"),
            "payload": payload,
        }
        r = self.http.post(
            "/v1/sync/push",
            json={
                "protocol": 1,
                "device_id": self.device["device_id"],
                "app_version": "1.0.0",
                "events": [ev],
            },
            headers={"Authorization": f"Bearer {self.device['device_token']}"},
        )
        r.raise_for_status()
        assert [x["status"] for x in r.json()["results"]] == ["applied"], r.text
        return str(ev["event_id"])

    def propose(self, client_id: str, made: datetime, dues: list[tuple[int, str]]) -> str:
        today = datetime.now(UTC).astimezone(BOGOTA).date()
        installments = [
            {"due_date": (today + timedelta(days=d)).isoformat(), "amount": a} for d, a in dues
        ]
        payload = {"installments": installments, "notes": "acordado en la visita"}
        return self.push("agreement.proposed", client_id, payload, made)


def test_approve_a_phone_proposal_see_it_broken_then_caught_up(tmp_path: Path) -> None:
    seeded, _ = build_demo(Settings(data_dir=tmp_path, database_url=""))
    collector = next(p for p in seeded.scenario.people if p.role == "collector")
    boss = next(p for p in seeded.scenario.people if p.role == "supervisor")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_server(tmp_path, ("RECAUDO_TILE_URL", "")) as base, sync_playwright() as pw:
        phone = FieldPhone(base, collector.username, collector.password)
        first, second, third = phone.clients[:3]
        now = datetime.now(UTC)
        # Written a week ago: $120.000 due three days ago (unpaid), $240.000 in 25 days.
        late = phone.propose(
            first["id"], now - timedelta(days=7), [(-3, "120000.00"), (25, "240000.00")]
        )
        fresh = phone.propose(second["id"], now, [(10, "500000.00"), (40, "500000.00")])

        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, locale="es-CO")
        page = context.new_page()
        page.goto(f"{base}/supervisor/login")
        page.get_by_label("Usuario").fill(boss.username)
        page.get_by_label("Contraseña").fill(boss.password)
        page.get_by_role("button", name="Ingresar").click()
        page.get_by_role("link", name="Acuerdos").click()
        expect(page.get_by_role("heading", name="Acuerdos de pago")).to_be_visible()
        expect(page.get_by_role("heading", name=re.compile(r"Por aprobar"))).to_be_visible()
        card = page.locator(f"#agreement-{late}")
        expect(card).to_contain_text(first["name"])
        expect(card).to_contain_text("$ 360.000")
        expect(card.locator("tr.inst-missed")).to_have_count(1)
        shoot(page, "to-approve")

        # Approve the week-old proposal: active, and broken at once (one installment missed).
        card.get_by_label("Nota").fill("Aprobado con el gestor")
        card.get_by_role("button", name="Aprobar").click()
        expect(page.get_by_role("status")).to_contain_text("Acuerdo aprobado")
        broken_card = page.locator("article.standing-broken", has_text=first["name"])
        expect(broken_card).to_be_visible()
        expect(broken_card).to_contain_text("1 cuota(s) incumplida(s)")
        expect(broken_card).to_contain_text("Aprobado con el gestor")
        shoot(page, "broken")
        # The review queue points at it.
        page.get_by_role("link", name="Revisión").click()
        page.get_by_role("link", name="1 acuerdo(s) de pago incumplido(s)").click()
        expect(page.locator("article.agreement")).to_have_count(1)
        expect(page.locator("article.standing-broken")).to_contain_text(first["name"])
        page.goto(f"{base}/supervisor/agreements")

        # Reject the other with a note: it leaves the open list.
        other = page.locator(f"#agreement-{fresh}")
        other.get_by_label("Nota").fill("Cuotas muy altas para su flujo de caja")
        other.get_by_role("button", name="Rechazar").click()
        expect(page.get_by_role("status")).to_contain_text("Acuerdo rechazado")
        expect(page.locator(f"#agreement-{fresh}")).to_have_count(0)
        page.get_by_label("Estado").select_option("closed")
        page.get_by_role("button", name="Filtrar").click()
        expect(page.locator(f"#agreement-{fresh}")).to_contain_text("Cuotas muy altas")

        # The phone collects the missed installment: the agreement is on track again.
        phone.push(
            "payment.collected",
            first["id"],
            {"amount": "120000.00", "method": "cash", "receipt_no": "E2E-000001"},
            datetime.now(UTC),
        )
        page.goto(f"{base}/supervisor/agreements")
        caught_up = page.locator("article.standing-on_track", has_text=first["name"])
        expect(caught_up).to_be_visible()
        expect(caught_up.locator("tr.inst-paid")).to_have_count(1)
        expect(page.locator("article.standing-broken")).to_have_count(0)
        shoot(page, "caught-up")

        # An agreement made in the office, from the client's statement page.
        page.goto(f"{base}/supervisor/clients/{third['id']}/statement")
        page.get_by_role("link", name="Acuerdo de pago").click()
        expect(page.get_by_label("Código del cliente")).to_have_value(third["code"])
        today = datetime.now(UTC).astimezone(BOGOTA).date()
        page.get_by_label("Vence la cuota 1").fill((today + timedelta(days=7)).isoformat())
        page.get_by_label("Valor de la cuota 1").fill("$ 200.000")
        page.get_by_label("Vence la cuota 2").fill((today + timedelta(days=37)).isoformat())
        page.get_by_label("Valor de la cuota 2").fill("200.000")
        page.get_by_label("Notas").fill("Firmado en la oficina")
        shoot(page, "new")
        page.get_by_role("button", name="Crear acuerdo").click()
        expect(page.get_by_role("status")).to_contain_text("Acuerdo creado")
        created = page.locator("article.standing-on_track", has_text=third["name"])
        expect(created).to_contain_text("$ 400.000")
        expect(created).to_contain_text("creado en oficina")
        shoot(page, "list")
        context.close()
        browser.close()
        phone.http.close()
