"""Disputes and reconciliations in a real Chromium over the demo (a real `recaudo serve`
process): a demo collector's phone (through the API) opens two glosas on a client's oldest open
invoice; the supervisor sees them with the aging "en glosa", accepts one in part (credit note)
and rejects the other with a note; then schedules a reconciliation with the same client, records
it (the client's statement 50.000 below ours, a credit note of 50.000 applied: no difference
left) and downloads its PDF and XLSX. Screenshots at the phone and desktop sizes under
test-artifacts/screenshots/issue7-disputes-*.png."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

from server.cli.demo import build_demo
from server.settings import Settings
from shared.calendar import business_tz
from shared.formatting import format_money
from tests.e2e.live import ARTIFACTS, CHROMIUM_ARGS, chromium_path, running_server

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
SHOTS = ARTIFACTS / "screenshots"
BOGOTA = business_tz()


def shoot(page: Page, name: str) -> None:
    for size, suffix in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(size)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"issue7-disputes-{name}-{suffix}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def _token(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    r = http.post("/v1/auth/token", data={"username": username, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _phone_opens_disputes(base: str, username: str, password: str) -> dict[str, Any]:
    """The collector's phone pushes two glosas on the oldest open invoice of one of its clients
    with a balance of at least 200.000: 100.000 (tarifas) and 50.000 (soportes)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        user = _token(http, username, password)
        r = http.post(
            "/v1/devices", json={"name": "e2e", "install_nonce": uuid.uuid4().hex}, headers=user
        )
        r.raise_for_status()
        device = r.json()
        clients = http.get("/v1/clients", params={"limit": 500}, headers=user).json()["items"]
        chosen = None
        for c in clients:
            statement = http.get(f"/v1/clients/{c['id']}/statement", headers=user).json()
            big = [i for i in statement["invoices"] if Decimal(i["balance"]) >= 200000]
            if big:
                chosen = (c, big[0])
                break
        assert chosen is not None, "a demo client owes at least 200.000 on one invoice"
        client, invoice = chosen
        now = datetime.now(UTC).astimezone(BOGOTA).isoformat(timespec="seconds")
        events = [
            {
                "event_id": str(uuid.uuid4()),
                "device_seq": seq,
                "type": "dispute.opened",
                "type_version": 1,
                "client_id": client["id"],
                "device_time": now,
                "payload": {
                    "invoice_number": invoice["number"],
                    "amount": amount,
                    "reason_code": reason,
                    "notes": "objeción del auditor de la EPS",
                },
            }
            for seq, amount, reason in ((1, "100000.00", "tariffs"), (2, "50000.00", "supports"))
        ]
        r = http.post(
            "/v1/sync/push",
            json={
                "protocol": 1,
                "device_id": device["device_id"],
                "app_version": "1.0.0",
                "events": events,
            },
            headers={"Authorization": f"Bearer {device['device_token']}"},
        )
        r.raise_for_status()
        assert [x["status"] for x in r.json()["results"]] == ["applied", "applied"]
        return {"client": client, "invoice": invoice, "ids": [e["event_id"] for e in events]}


def _balance(base: str, auth: tuple[str, str], client_id: str) -> Decimal:
    with httpx.Client(base_url=base, timeout=30) as http:
        user = _token(http, *auth)
        return Decimal(http.get(f"/v1/clients/{client_id}", headers=user).json()["balance"])


def test_disputes_and_a_reconciliation_in_the_supervisor_pages(tmp_path: Path) -> None:
    seeded, field = build_demo(Settings(data_dir=tmp_path, database_url=""))
    assert field.days
    collector = next(p for p in seeded.scenario.people if p.role == "collector")
    boss = next(p for p in seeded.scenario.people if p.role == "supervisor")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_server(tmp_path, ("RECAUDO_TILE_URL", "")) as base, sync_playwright() as pw:
        opened = _phone_opens_disputes(base, collector.username, collector.password)
        client, invoice = opened["client"], opened["invoice"]
        accepted_id, rejected_id = opened["ids"]
        boss_auth = (boss.username, boss.password)
        before = _balance(base, boss_auth, client["id"])

        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=DESKTOP, locale="es-CO").new_page()
        page.goto(f"{base}/supervisor/disputes")
        page.get_by_label("Usuario").fill(boss.username)
        page.get_by_label("Contraseña").fill(boss.password)
        page.get_by_role("button", name="Ingresar").click()
        expect(page.get_by_role("heading", name="Glosas y devoluciones")).to_be_visible()
        expect(page.locator("article.dispute")).to_have_count(2)
        expect(page.locator(".tile.warn b")).to_have_text(format_money(Decimal("150000")))
        shoot(page, "open")

        # Accept 60.000 of the 100.000 (typed the Colombian way): a credit note of 60.000.
        card = page.locator(f"#dispute-{accepted_id}")
        expect(card).to_contain_text(invoice["number"])
        card.get_by_label("Valor aceptado (vacío: todo)").fill("60.000")
        card.get_by_role("button", name="Aceptar (nota crédito)").click()
        expect(page.get_by_role("status")).to_contain_text("Glosa aceptada")
        # Reject the other with a note: it stays due.
        other = page.locator(f"#dispute-{rejected_id}")
        other.get_by_label("Motivo del rechazo").fill("Los soportes llegaron completos")
        other.get_by_role("button", name="Rechazar (sigue por cobrar)").click()
        expect(page.get_by_role("status")).to_contain_text("Glosa rechazada")
        expect(page.locator("article.dispute")).to_have_count(0)
        expect(page.locator(".tile.warn b")).to_have_text(format_money(Decimal("0")))
        assert _balance(base, boss_auth, client["id"]) == before - Decimal("60000")
        page.goto(f"{base}/supervisor/disputes?status=all")
        expect(page.locator("article.dispute")).to_have_count(2)
        expect(page.locator(f"#dispute-{accepted_id}")).to_contain_text(
            f"aceptado {format_money(Decimal('60000'))}"
        )
        shoot(page, "decided")

        # Reconciliation: schedule it for today, record it from the agenda.
        page.get_by_role("link", name="Conciliaciones").click()
        expect(page.get_by_role("heading", name="Conciliaciones", exact=True)).to_be_visible()
        page.get_by_label("Código del cliente").fill(client["code"])
        page.get_by_label("Nota").fill("Cruce de cartera con la EPS")
        page.get_by_role("button", name="Programar").click()
        expect(page.get_by_role("status")).to_contain_text("Conciliación programada")
        row = page.locator("table.agenda tbody tr", has_text=client["code"])
        expect(row).to_have_count(1)
        shoot(page, "agenda")
        row.get_by_role("link", name="Registrar").click()
        ours = _balance(base, boss_auth, client["id"])
        theirs = ours - Decimal("50000")
        page.get_by_label("Saldo según el cliente").fill(format_money(theirs))
        page.get_by_label("Soporte del cliente").fill("Estado de cuenta EPS noviembre")
        page.locator("input[name=item_invoice]").first.fill(invoice["number"])
        page.locator("input[name=item_description]").first.fill("Glosa descontada por el cliente")
        page.locator("input[name=item_ours]").first.fill(format_money(ours))
        page.locator("input[name=item_theirs]").first.fill(format_money(theirs))
        page.locator("select[name=item_resolution]").first.select_option("credit_note")
        page.locator("input[name=note_invoice]").first.fill(invoice["number"])
        page.locator("input[name=note_amount]").first.fill("50.000")
        page.locator("select[name=note_reason_code]").first.select_option("tariffs")
        page.locator("input[name=note_reason]").first.fill("Tarifa reconocida en la conciliación")
        page.locator("select[name=note_item]").first.select_option("0")
        shoot(page, "record")
        page.get_by_role("button", name="Registrar conciliación").click()
        expect(page.get_by_role("status")).to_contain_text("Conciliación registrada")
        tiles = page.locator(".tile b")
        expect(tiles.nth(0)).to_have_text(format_money(ours))
        expect(tiles.nth(1)).to_have_text(format_money(theirs))
        expect(tiles.nth(2)).to_have_text(format_money(Decimal("50000")))
        expect(tiles.nth(5)).to_have_text(format_money(Decimal("0")))
        assert _balance(base, boss_auth, client["id"]) == theirs
        shoot(page, "recorded")
        with page.expect_download() as pdf:
            page.get_by_role("link", name="Descargar PDF").click()
        assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
        with page.expect_download() as xlsx:
            page.get_by_role("link", name="Descargar XLSX").click()
        assert Path(xlsx.value.path()).read_bytes().startswith(b"PK")
        assert pdf.value.suggested_filename.startswith(f"conciliacion_{client['code']}")
        browser.close()
