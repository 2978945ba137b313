"""The collector's day in the real app: web mode in Debian's Chromium at 390x844 with GPS granted,
against a seeded server: first run, the day's route planned from the GPS position (Hoy in the
planner's order, Mapa drawing it), a client, a visit, a promise, a payment with its confirmation
and receipt, all sent by the background sync without a tap; then the server goes down, two more
payments and a visit are recorded offline, the app is closed and reopened with nothing lost and
says it is offline by itself, the server comes back, the background sync sends them without a
tap, and the ledger holds exactly those payments.
Every screen is saved to test-artifacts/screenshots/phone-*.png."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Geolocation, Page, expect, sync_playwright

from server.cli.demo import build_demo
from server.settings import Settings
from shared.calendar import business_date, to_business_time
from shared.contact_rules import is_contact_allowed, load_rules
from shared.formatting import format_date
from tests.e2e.live import ARTIFACTS, CHROMIUM_ARGS, chromium_path, free_port
from tests.e2e.phone import Server, open_flutter, retype, running_app, type_into, wait_http

pytestmark = pytest.mark.e2e
SHOTS = ARTIFACTS / "screenshots"
BOGOTA = Geolocation(latitude=4.6486, longitude=-74.0628, accuracy=12)
CO = load_rules("CO")


STARTED = [0.0]


def shot(page: Page, name: str) -> None:
    page.wait_for_timeout(700)  # the canvas repaints after the accessibility tree updates
    page.screenshot(path=str(SHOTS / f"phone-{name}.png"))
    print(f"{time.monotonic() - STARTED[0]:6.1f} s  {name}")  # shown when the test fails


def api_login(base: str, username: str) -> dict[str, str]:
    token = httpx.post(
        f"{base}/v1/auth/token", data={"username": username, "password": f"{username}-demo-2026"}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def payments_of(base: str, headers: dict[str, str], client_id: str) -> dict[str, Decimal]:
    statement = httpx.get(f"{base}/v1/clients/{client_id}/statement", headers=headers).json()
    return {e["id"]: Decimal(e["amount"]) for e in statement["entries"] if e["kind"] == "payment"}


def record_payment(page: Page, amount: str) -> str:
    page.get_by_role("button", name="Pago", exact=True).click()
    type_into(page, "Valor recibido", amount)
    page.get_by_role("button", name="Revisar").click()
    page.get_by_role("button", name="Sí, registrar").click()
    receipt = page.locator("[flt-semantics-identifier='receipt']")
    expect(receipt).to_contain_text("Recibo N.º")
    return receipt.inner_text()


def plan_the_day(page: Page) -> None:
    """ "Planear ruta" from the GPS position: Hoy in the planner's order, numbered with arrival
    times, or, outside the legal hours or past the day's end, every stop with its reason."""
    page.get_by_role("button", name="Planear ruta").click()
    summary = page.locator("[flt-semantics-identifier='route-summary']")
    expect(summary).to_have_text(
        re.compile(r"^Ruta de hoy: (\d+ paradas · [\d,]+ km · termina \d\d:\d\d|ninguna)"),
        timeout=30_000,
    )
    expect(page.get_by_role("button", name="Re-planear desde aquí")).to_be_visible()
    cards = page.locator("[flt-semantics-identifier^='client-']")
    now = datetime.now(UTC)
    working = is_contact_allowed(CO, now) and is_contact_allowed(CO, now + timedelta(hours=1))
    local = to_business_time(now, "America/Bogota")
    if working and local.hour < 16:  # two clear hours of legal time before the day ends
        expect(summary).to_have_text(re.compile(r"^Ruta de hoy: \d+ paradas"))
    if summary.inner_text().startswith("Ruta de hoy: ninguna"):
        expect(cards.first).to_contain_text("Fuera de la ruta: ")
    else:
        for number in (1, 2):
            expect(cards.nth(number - 1)).to_contain_text(re.compile(rf"^{number}\s"))
            expect(cards.nth(number - 1)).to_contain_text("Llegada ~")
    shot(page, "02-hoy-ruta")


def test_a_day_in_the_field_online_then_offline(tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    STARTED[0] = time.monotonic()
    server = Server(tmp_path / "server", free_port())
    server.data_dir.mkdir()
    with running_app(tmp_path / "phone", free_port(), server.base) as (app_url, app_proc):
        build_demo(Settings(data_dir=server.data_dir, database_url=""))  # while the app boots
        server.start()
        print(f"{time.monotonic() - STARTED[0]:6.1f} s  server seeded and up")
        try:
            wait_http(app_url, app_proc, tmp_path / "phone" / "app.log")
            run_the_day(app_url, server)
            print(f"{time.monotonic() - STARTED[0]:6.1f} s  ledger checked")
        finally:
            server.stop()


def run_the_day(app_url: str, server: Server) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, permissions=["geolocation"], geolocation=BOGOTA
        )
        page = context.new_page()
        open_flutter(page, app_url)

        # First run: the server URL is prefilled; log in, register, first sync.
        expect(page.get_by_role("button", name="Ingresar y registrar")).to_be_visible()
        type_into(page, "Usuario", "gestor1")
        type_into(page, "Contraseña", "gestor1-demo-2026")
        shot(page, "01-first-run")
        page.get_by_role("button", name="Ingresar y registrar").click()
        count = page.get_by_text(re.compile(r"^([1-9]\d*) de \1 clientes$"))
        expect(count).to_be_visible(timeout=60_000)
        shot(page, "02-hoy")
        plan_the_day(page)
        page.get_by_role("tab", name="Mapa").click()
        expect(page.locator("[flt-semantics-identifier='map-summary']")).to_have_text(
            re.compile(r"^Ruta planeada: \d+ paradas en orden")
        )
        shot(page, "02-mapa")
        page.get_by_role("tab", name="Hoy").click()

        # The first stop of the day (the highest priority).
        first = page.locator("[flt-semantics-identifier^='client-']").first
        code = (first.get_attribute("flt-semantics-identifier") or "").removeprefix("client-")
        headers = api_login(server.base, "gestor1")
        mine = httpx.get(f"{server.base}/v1/clients", params={"limit": 500}, headers=headers)
        client = next(c for c in mine.json()["items"] if c["code"] == code)
        before = payments_of(server.base, headers, client["id"])
        first.click()
        expect(page.get_by_role("button", name="Registrar visita")).to_be_visible()
        shot(page, "03-cliente")

        page.get_by_role("button", name="Registrar visita").click()
        expect(page.get_by_text(re.compile(r"^GPS ±12 m$"))).to_be_visible(timeout=15_000)
        page.get_by_role("radio", name="Contactado").click()
        type_into(page, "Notas", "Atendió la administradora")
        shot(page, "04-visita")
        page.get_by_role("button", name="Guardar visita").click()
        expect(page.get_by_text("Visita guardada")).to_be_visible()

        page.get_by_role("button", name="Promesa", exact=True).click()
        type_into(page, "Valor prometido", "100.000")
        type_into(page, "Fecha (dd/mm/aaaa)", "01/01/2020")
        page.get_by_role("button", name="Guardar promesa").click()
        expect(page.get_by_text("La fecha no puede ser anterior a hoy")).to_be_visible()
        shot(page, "05-promesa-error")
        retype(
            page,
            "Fecha (dd/mm/aaaa)",
            format_date(business_date(datetime.now(UTC), "America/Bogota")),
        )
        page.get_by_role("button", name="Guardar promesa").click()
        expect(page.get_by_text("Promesa guardada")).to_be_visible()

        page.get_by_role("button", name="Pago", exact=True).click()
        type_into(page, "Valor recibido", "50.000")
        shot(page, "06-pago")
        page.get_by_role("button", name="Revisar").click()
        expect(page.get_by_text("Cincuenta mil pesos")).to_be_visible()
        shot(page, "07-confirmar")
        page.get_by_role("button", name="Sí, registrar").click()
        receipt = page.locator("[flt-semantics-identifier='receipt']")
        expect(receipt).to_contain_text("Valor: $ 50.000")
        expect(receipt).to_contain_text("Son: Cincuenta mil pesos")
        me = httpx.get(f"{server.base}/v1/me", headers=headers).json()["user"]
        expect(receipt).to_contain_text(f"Gestor: {me['full_name']}")  # not the username
        shot(page, "08-recibo")
        page.get_by_role("button", name="Listo").click()
        # Nobody taps "Sincronizar": the route, the visit, the promise and the payment go by
        # themselves, a moment after each was saved.
        pending = page.locator("[flt-semantics-identifier='pending']")
        expect(pending).to_have_text("0 sin enviar", timeout=30_000)

        # The server goes down: the collector keeps working.
        server.stop()
        record_payment(page, "20.000")
        page.get_by_role("button", name="Listo").click()
        second_receipt = record_payment(page, "30.000,50")
        assert "Treinta mil pesos con cincuenta centavos" in second_receipt
        page.get_by_role("button", name="Listo").click()
        page.get_by_role("button", name="Registrar visita").click()
        page.get_by_role("radio", name="Promesa de pago").click()
        page.get_by_role("button", name="Guardar visita").click()
        expect(page.get_by_text("Visita guardada")).to_be_visible()
        shot(page, "09-cliente-offline")

        # Close the app and open it again (a new session): the three records are still there,
        # and the app finds out by itself that the server is away.
        context.close()
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, permissions=["geolocation"], geolocation=BOGOTA
        )
        page = context.new_page()
        open_flutter(page, app_url)
        expect(page.locator("[flt-semantics-identifier='pending']")).to_have_text(
            "3 sin enviar", timeout=30_000
        )
        first_stop = page.locator("[flt-semantics-identifier^='client-']").first
        # The GPS fix arrived: distances shown (metres for the nearest, km further away).
        expect(first_stop).to_contain_text(re.compile(r"\d (m|km)\b"), timeout=30_000)
        page.get_by_role("tab", name="Sincronizar").click()
        counts = page.locator("[flt-semantics-identifier='sync-counts']")
        expect(counts).to_contain_text("Pendientes 3")
        expect(page.locator("[flt-semantics-identifier='offline']")).to_be_visible(timeout=30_000)
        expect(page.locator("[flt-semantics-identifier='auto-sync']")).to_have_text(
            re.compile("^Sin conexión: se reintenta sola|^Sincronizando en segundo plano")
        )
        shot(page, "10-sincronizacion-sin-servidor")

        # Back in coverage: nothing to tap, the retries find the server.
        server.start()
        expect(counts).to_contain_text(
            "Pendientes 0 · Retenidos 0 · En conflicto 0", timeout=30_000
        )
        expect(page.locator("[flt-semantics-identifier='offline']")).to_have_count(0)
        shot(page, "11-sincronizacion")

        page.get_by_role("tab", name="Mi semana").click()
        expect(page.locator("[flt-semantics-identifier='week-collected']")).to_have_text(
            "$ 100.000,50"
        )
        shot(page, "12-mi-semana")
        browser.close()

    after = payments_of(server.base, api_login(server.base, "gestor1"), client["id"])
    new = sorted(amount for entry, amount in after.items() if entry not in before)
    assert new == [Decimal("-50000.00"), Decimal("-30000.50"), Decimal("-20000.00")]
