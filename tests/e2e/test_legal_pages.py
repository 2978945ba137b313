"""Cobro jurídico, portfolio segmentation and paz y salvo in a real Chromium over the demo (a real
`recaudo serve` process, suggestion thresholds lowered so the demo week has suggestions):

- the supervisor adds a law firm, refers the first suggested client ("Remitir"), records the
  firm's progress and closes the case as recovered; the history shows the three steps;
- the portfolio page shows each view (tabs) with its totals, and its XLSX downloads;
- a demo collector's phone pays one client's whole balance (through the API); the supervisor
  asks for its paz y salvo from the statement page, downloads the PDF (its text holds the code
  and the date) and the public verification page (no login) says "Válido"; a client who owes
  gets the refusal with the balance.
Screenshots at the phone and desktop sizes under test-artifacts/screenshots/issue7-legal-*.png.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pypdf
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from server.cli.demo import build_demo
from server.settings import Settings
from shared.calendar import business_tz
from shared.formatting import format_money
from tests.e2e.live import ARTIFACTS, CHROMIUM_ARGS, chromium_path, running_server

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SHOTS = ARTIFACTS / "screenshots"
BOGOTA = business_tz()
CODE = re.compile(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}")


def shoot(page: Page, name: str) -> None:
    for size, suffix in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(size)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"issue7-legal-{name}-{suffix}.png"), full_page=True)


def _login(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    r = http.post("/v1/auth/token", data={"username": username, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _pay_a_whole_balance(
    base: str, username: str, password: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The collector's phone pays the whole balance of one of its clients; answers that client
    and the detail (with open invoices) of another of its clients that still owes."""
    with httpx.Client(base_url=base, timeout=30) as http:
        user = _login(http, username, password)
        owing = [
            c
            for c in http.get("/v1/clients", params={"limit": 500}, headers=user).json()["items"]
            if float(c["balance"]) > 0
        ]
        assert len(owing) >= 2, "the demo collector has clients who owe"
        paid, other = owing[0], owing[1]
        r = http.post(
            "/v1/devices", json={"name": "e2e", "install_nonce": uuid.uuid4().hex}, headers=user
        )
        r.raise_for_status()
        device = r.json()
        now = datetime.now(UTC).astimezone(BOGOTA)
        event = {
            "event_id": str(uuid.uuid4()),
            "device_seq": 1,
            "type": "payment.collected",
            "type_version": 1,
            "client_id": paid["id"],
            "device_time": now.isoformat(timespec="seconds"),
            "payload": {"amount": paid["balance"], "method": "transfer", "receipt_no": "E2E-1"},
        }
        r = http.post(
            "/v1/sync/push",
            json={
                "protocol": 1,
                "device_id": device["device_id"],
                "app_version": "1.0.0",
                "events": [event],
            },
            headers={"Authorization": f"Bearer {device['device_token']}"},
        )
        r.raise_for_status()
        assert r.json()["results"][0]["status"] == "applied", r.text
        detail = http.get(f"/v1/clients/{other['id']}", headers=user).json()
        return paid, detail


def test_legal_portfolio_and_clearance_pages(tmp_path: Path) -> None:
    seeded, _ = build_demo(Settings(data_dir=tmp_path, database_url=""))
    collector = next(p for p in seeded.scenario.people if p.role == "collector")
    boss = next(p for p in seeded.scenario.people if p.role == "supervisor")
    SHOTS.mkdir(parents=True, exist_ok=True)
    env = (
        ("RECAUDO_TILE_URL", ""),
        ("RECAUDO_LEGAL_MIN_DAYS_PAST_DUE", "60"),
        ("RECAUDO_LEGAL_MIN_BROKEN_PROMISES", "0"),
        ("RECAUDO_COMPANY_NAME", "Clínica Demo S.A.S."),
        ("RECAUDO_COMPANY_TAX_ID", "900.555.111-2"),
    )
    with running_server(tmp_path, *env) as base, sync_playwright() as pw:
        paid, owing = _pay_a_whole_balance(base, collector.username, collector.password)
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, locale="es-CO", accept_downloads=True)
        page = context.new_page()
        page.goto(f"{base}/supervisor/legal")
        page.get_by_label("Usuario").fill(boss.username)
        page.get_by_label("Contraseña").fill(boss.password)
        page.get_by_role("button", name="Ingresar").click()
        expect(page.get_by_role("heading", name="Cobro jurídico")).to_be_visible()
        expect(page.locator("article.legal-case")).to_have_count(0)

        # A firm, then the first suggested client referred to it.
        new_firm = page.locator("form.new-firm")
        new_firm.get_by_label("Nombre").fill("Abogados Andinos S.A.S.")
        new_firm.get_by_label("Correo").fill("casos@andinos.co")
        new_firm.get_by_role("button", name="Agregar").click()
        expect(page.get_by_role("status")).to_contain_text("Firma Abogados Andinos S.A.S. agregada")
        suggestions = page.locator("tr.suggestion")
        expect(suggestions.first).to_be_visible()
        first = suggestions.first
        code = (first.get_attribute("id") or "").removeprefix("suggest-")
        name = first.locator("a.name").inner_text()
        shoot(page, "suggested")
        first.get_by_role("button", name="Remitir").click()
        expect(page.get_by_role("status")).to_contain_text("remitido a Abogados Andinos")
        case = page.locator("article.legal-case")
        expect(case).to_have_count(1)
        expect(case).to_contain_text(name)
        expect(case.locator(".tag")).to_contain_text("Remitido")
        expect(page.locator(f'[id="suggest-{code}"]')).to_have_count(0)

        # The firm's progress, then the close with its outcome.
        case.get_by_label("Nota").fill("Demanda radicada en el juzgado 12 civil")
        case.get_by_role("button", name="Registrar").click()
        expect(page.locator("article.legal-case .tag")).to_contain_text("En curso")
        case = page.locator("article.legal-case")
        case.get_by_label("Nuevo estado").select_option("closed")
        case.get_by_label("Resultado").select_option("recovered")
        case.get_by_label("Nota").fill("Pagó la totalidad")
        case.get_by_role("button", name="Registrar").click()
        expect(page.get_by_role("status")).to_contain_text("actualizado")
        expect(page.locator("article.legal-case")).to_have_count(0)  # open cases only
        page.get_by_label("Estado").select_option("closed")
        page.get_by_role("button", name="Filtrar").click()
        closed = page.locator("article.legal-case")
        expect(closed.locator(".tag")).to_contain_text("Cerrado · Recuperado")
        closed.locator("summary").click()
        expect(closed.locator("details li")).to_have_count(3)
        expect(closed.locator("details")).to_contain_text("Demanda radicada")
        shoot(page, "closed")

        # Any client by its code, for one of its invoices: the amount is that invoice's balance.
        invoice = next(i for i in owing["invoices"] if float(i["balance"]) > 0)
        form = page.locator("details.refer-any")
        form.locator("summary").click()
        form.get_by_label("Código del cliente").fill(owing["code"])
        form.get_by_label("Facturas").fill(invoice["number"])
        form.get_by_label("Razón").fill("Factura con glosa rechazada y sin pago")
        form.get_by_role("button", name="Remitir").click()
        expect(page.get_by_role("status")).to_contain_text(f"{owing['code']} remitido")
        by_invoice = page.locator("article.legal-case")
        expect(by_invoice).to_contain_text(invoice["number"])
        expect(by_invoice).to_contain_text(format_money(Decimal(invoice["balance"])))

        # The portfolio views and the XLSX.
        page.get_by_role("link", name="Cartera").click()
        expect(page.get_by_role("heading", name="Segmentación de cartera")).to_be_visible()
        clients_total = int(page.locator("tfoot tr.total th").nth(1).inner_text().replace(".", ""))
        assert clients_total >= 2
        shoot(page, "portfolio-segment")
        for tab in ("Acuerdo de pago", "Edad de cartera", "Estado"):
            page.locator("nav.tabs").get_by_role("link", name=tab).click()
            expect(page.locator("table.segmentation thead th").first).to_have_text(tab)
            total = page.locator("tfoot tr.total th").nth(1).inner_text().replace(".", "")
            assert int(total) == clients_total, tab
        expect(page.locator("tr.group-legal")).to_contain_text("En cobro jurídico")
        shoot(page, "portfolio-status")
        with page.expect_download() as download:
            page.get_by_role("link", name="Descargar XLSX").click()
        book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
        assert book.active is not None and book.active.title == "Estado"

        # Paz y salvo: refused for a client who owes, issued for the one who paid everything.
        page.goto(f"{base}/supervisor/clients/{owing['id']}/statement")
        page.get_by_role("button", name="Paz y salvo").click()
        expect(page.locator("body")).to_contain_text("no está a paz y salvo")
        page.goto(f"{base}/supervisor/clients/{paid['id']}/statement")
        page.get_by_role("button", name="Paz y salvo").click()
        expect(page.get_by_role("heading", name="Paz y salvo expedido")).to_be_visible()
        code = page.locator("code.clearance-code").inner_text()
        assert CODE.fullmatch(code)
        today = datetime.now(UTC).astimezone(BOGOTA).strftime("%d/%m/%Y")
        shoot(page, "clearance")
        with page.expect_download() as download:
            page.get_by_role("link", name="Descargar PDF").click()
        text = "\n".join(
            p.extract_text()
            for p in pypdf.PdfReader(io.BytesIO(Path(download.value.path()).read_bytes())).pages
        )
        flat = " ".join(text.split())
        assert code in flat
        assert f"se encuentra a paz y salvo por todo concepto al {today}" in flat
        assert "Clínica Demo S.A.S." in flat and paid["name"] in flat
        assert f"{base}/verificar/{code}" in flat

        # Anyone holding the paper checks it, without logging in.
        public = browser.new_context(viewport=PHONE, locale="es-CO").new_page()
        public.goto(f"{base}/verificar/{code.lower().replace('-', '')}")
        expect(public.locator(".tag")).to_have_text("Válido")
        expect(public.locator("body")).to_contain_text(paid["name"])
        expect(public.locator("body")).to_contain_text(today)
        public.screenshot(path=str(SHOTS / "issue7-legal-verify-valid-phone.png"), full_page=True)
        public.goto(f"{base}/verificar/AAAA-BBBB-CCCC")
        expect(public.locator(".tag")).to_have_text("No válido")
        public.screenshot(path=str(SHOTS / "issue7-legal-verify-invalid-phone.png"), full_page=True)
        browser.close()
