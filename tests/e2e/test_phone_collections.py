"""Issue 7 in the real app: web mode in Debian's Chromium at 390x844 against a seeded server.
The collector proposes a payment agreement (3 monthly installments built from the balance, a
wrong edit refused in Spanish, then sent), registers a glosa on an open invoice, takes a cash
payment and hands the cash over by bank deposit from Mi semana > Efectivo en mano; the background
sync sends all of it. The office then approves the agreement, rejects the handover and refers
the client to a law firm (API); after a sync the phone shows the agreement active, the client
"En cobro jurídico" (and out of the day's route) and the handover rejected with its payment
back in hand.
Screens: test-artifacts/screenshots/phone-issue7-*.png."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from server.cli.demo import build_demo
from server.settings import Settings
from tests.e2e.live import ARTIFACTS, CHROMIUM_ARGS, chromium_path, free_port
from tests.e2e.phone import Server, open_flutter, retype, running_app, type_into, wait_http
from tests.e2e.test_phone_app import api_login

pytestmark = pytest.mark.e2e
SHOTS = ARTIFACTS / "screenshots"
STARTED = [0.0]


def shot(page: Page, name: str) -> None:
    page.wait_for_timeout(700)  # the canvas repaints after the accessibility tree updates
    page.screenshot(path=str(SHOTS / f"phone-issue7-{name}.png"))
    print(f"{time.monotonic() - STARTED[0]:6.1f} s  {name}")


def tagged(page: Page, identifier: str):  # type: ignore[no-untyped-def]
    return page.locator(f"[flt-semantics-identifier='{identifier}']")


def go_back(page: Page) -> None:
    """The app bar's back arrow, then the bottom navigation is there."""
    page.locator("[flt-semantics-identifier='back']").click()
    expect(page.get_by_role("tab", name="Hoy")).to_be_visible()


def test_agreement_glosa_and_cash_handover_on_the_phone(tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    STARTED[0] = time.monotonic()
    server = Server(tmp_path / "server", free_port())
    server.data_dir.mkdir()
    with running_app(tmp_path / "phone", free_port(), server.base) as (app_url, app_proc):
        build_demo(Settings(data_dir=server.data_dir, database_url=""))
        server.start()
        try:
            wait_http(app_url, app_proc, tmp_path / "phone" / "app.log")
            run(app_url, server.base)
        finally:
            server.stop()


def run(app_url: str, base: str) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        open_flutter(page, app_url)
        type_into(page, "Usuario", "gestor1")
        type_into(page, "Contraseña", "gestor1-demo-2026")
        page.get_by_role("button", name="Ingresar y registrar").click()
        expect(page.get_by_text(re.compile(r"^([1-9]\d*) de \1 clientes$"))).to_be_visible(
            timeout=60_000
        )
        first = page.locator("[flt-semantics-identifier^='client-']").first
        code = (first.get_attribute("flt-semantics-identifier") or "").removeprefix("client-")
        first.click()
        expect(page.get_by_role("button", name="Proponer acuerdo")).to_be_visible()
        shot(page, "01-cliente")

        # Proponer acuerdo: 3 monthly installments of the balance, one edited wrong, then fixed.
        page.get_by_role("button", name="Proponer acuerdo").click()
        type_into(page, "Número de cuotas", "3")
        page.get_by_role("button", name="Calcular cuotas").click()
        expect(page.get_by_label("Valor cuota 3")).to_be_visible()
        expect(tagged(page, "agreement-sum")).to_have_text(re.compile(r"^Suman \$ [\d.]+ de "))
        shot(page, "02-acuerdo-cuotas")
        retype(page, "Valor cuota 2", "1.000")
        page.get_by_role("button", name="Enviar propuesta").click()
        expect(
            page.get_by_text(re.compile(r"^Las cuotas suman \$\s[\d.]+; deben sumar \$\s"))
        ).to_be_visible()
        page.mouse.wheel(0, 600)  # the message is under the schedule
        shot(page, "03-acuerdo-error")
        page.mouse.wheel(0, -600)
        page.get_by_role("button", name="Calcular cuotas").click()  # back to an even split
        page.get_by_role("button", name="Enviar propuesta").click()
        expect(page.get_by_text("Acuerdo propuesto: la oficina lo aprueba")).to_be_visible()
        agreements = tagged(page, "agreements")
        expect(agreements).to_contain_text("Propuesto, por aprobar")
        expect(agreements).to_contain_text("Cuota 3 · ")
        shot(page, "04-cliente-acuerdo")

        # Registrar glosa on the first open invoice.
        page.get_by_role("button", name="Registrar glosa").click()
        invoice = page.get_by_role("radio", name=re.compile(r" · saldo \$ ")).first
        number = (invoice.get_attribute("aria-label") or invoice.inner_text()).split(" · ")[0]
        invoice.click()
        type_into(page, "Valor glosado", "10.000")
        page.get_by_role("radio", name="Tarifas").click()
        shot(page, "05-glosa")
        page.get_by_role("button", name="Guardar glosa").click()
        expect(page.get_by_text("Glosa registrada")).to_be_visible()
        expect(tagged(page, "disputes")).to_contain_text("$ 10.000")
        shot(page, "06-cliente-glosa")

        # A cash payment, then Mi semana > Efectivo en mano > Entregar efectivo.
        page.get_by_role("button", name="Pago", exact=True).click()
        type_into(page, "Valor recibido", "50.000")
        page.get_by_role("button", name="Revisar").click()
        page.get_by_role("button", name="Sí, registrar").click()
        expect(tagged(page, "receipt")).to_contain_text("Valor: $ 50.000")
        page.get_by_role("button", name="Listo").click()
        expect(page.get_by_role("button", name="Registrar glosa")).to_be_visible()
        # Sent by the background sync; waiting for it keeps its redraw of Mi semana from
        # landing between the screen and a tap on it.
        expect(tagged(page, "pending")).to_have_text("0 sin enviar", timeout=30_000)
        go_back(page)
        page.get_by_role("tab", name="Mi semana").click()
        expect(tagged(page, "cash-total")).to_have_text("$ 50.000")
        page.get_by_role("button", name="Ver y entregar").click()
        expect(page.get_by_role("button", name="Entregar efectivo")).to_be_visible()
        expect(tagged(page, "cash-oldest")).to_contain_text("El más antiguo: de hoy")
        shot(page, "07-efectivo")
        page.get_by_role("button", name="Entregar efectivo").click()
        expect(tagged(page, "handover-sum")).to_have_text("Total a entregar: $ 50.000")
        page.get_by_role("radio", name="Consignación bancaria").click()
        page.get_by_role("button", name="Registrar entrega").click()
        expect(page.get_by_text("Escriba la referencia de la consignación")).to_be_visible()
        type_into(page, "Referencia de la consignación", "BC-778812")
        shot(page, "08-entrega")
        page.get_by_role("button", name="Registrar entrega").click()
        expect(page.get_by_text("Entrega registrada: el supervisor la confirma")).to_be_visible()
        expect(tagged(page, "cash-total")).to_have_text("$ 0")
        expect(tagged(page, "pending")).to_have_text("0 sin enviar", timeout=30_000)
        expect(tagged(page, "handover-0")).to_have_text("Enviada, por confirmar")
        shot(page, "09-entrega-enviada")

        # The office decides (API, as the supervisor pages do).
        office = api_login(base, "supervisor")
        mine = httpx.get(f"{base}/v1/clients", params={"limit": 500}, headers=office).json()
        client = next(c for c in mine["items"] if c["code"] == code)
        proposed = httpx.get(
            f"{base}/v1/agreements",
            params={"status": "proposed", "client_id": client["id"]},
            headers=office,
        ).json()
        (agreement,) = proposed["items"]
        answer = httpx.post(f"{base}/v1/agreements/{agreement['id']}/approve", headers=office)
        assert answer.status_code == 200, answer.text
        handovers = httpx.get(f"{base}/v1/cash/handovers", headers=office).json()
        (handover,) = handovers
        assert Decimal(str(handover["amount"])) == Decimal("50000")
        answer = httpx.post(
            f"{base}/v1/cash/handovers/{handover['id']}/reject",
            json={"note": "La consignación no aparece en el banco"},
            headers=office,
        )
        assert answer.status_code == 200, answer.text
        firm = httpx.post(f"{base}/v1/law-firms", json={"name": "Abogados Uno"}, headers=office)
        assert firm.status_code == 201, firm.text
        referral = httpx.post(
            f"{base}/v1/clients/{client['id']}/legal-referrals",
            json={"law_firm_id": firm.json()["id"], "reason": "Promesas incumplidas"},
            headers=office,
        )
        assert referral.status_code == 201, referral.text

        # The phone hears about it at its next sync.
        go_back(page)
        page.get_by_role("tab", name="Sincronizar").click()
        page.get_by_role("button", name="Sincronizar ahora").click()
        expect(page.get_by_text(re.compile(r"^Enviados \d+, recibidos [1-9]"))).to_be_visible(
            timeout=30_000
        )
        page.get_by_role("tab", name="Mi semana").click()
        expect(tagged(page, "cash-total")).to_have_text("$ 50.000")
        page.get_by_role("button", name="Ver y entregar").click()
        expect(page.get_by_role("button", name="Entregar efectivo")).to_be_visible()
        expect(tagged(page, "handover-0")).to_have_text(
            "Rechazada: La consignación no aparece en el banco. Los pagos volvieron a efectivo"
            " en mano"
        )
        shot(page, "10-entrega-rechazada")
        go_back(page)
        page.get_by_role("tab", name="Hoy").click()
        # The day's route leaves the client out, whatever the hour (the reason comes first).
        page.get_by_role("button", name="Planear ruta").click()
        expect(page.get_by_role("button", name="Re-planear desde aquí")).to_be_visible(
            timeout=30_000
        )
        type_into(page, "Buscar cliente", code)
        card = tagged(page, f"client-{code}")
        expect(card).to_contain_text("Cobro jurídico")
        expect(card).to_contain_text("Fuera de la ruta: en cobro jurídico")
        shot(page, "11-hoy-juridico")
        card.click()
        expect(tagged(page, "legal")).to_contain_text("En cobro jurídico")
        expect(tagged(page, "agreements")).to_contain_text(re.compile("Al día|Incumplido"))
        expect(tagged(page, "disputes")).to_contain_text(f"Factura {number} · $ 10.000")
        shot(page, "12-cliente-juridico")
        browser.close()
