"""Cash in hand in a real Chromium over the demo (a real `recaudo serve` process): a demo
collector's phone (through the API) hands over part of her cash with a bank reference and sends
a second handover that does not add up (held); the supervisor sees every collector's cash with
the oldest age (more than two days highlighted), confirms the first with the amount seen in the
bank and rejects the held one with a note; the cash in hand follows. Screenshots at the phone
and desktop sizes under test-artifacts/screenshots/issue7-cash-*.png."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from server.cli.demo import build_demo
from server.settings import Settings
from shared.calendar import business_tz
from shared.formatting import format_money
from sync.protocol import NO_CLIENT
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
        page.screenshot(path=str(SHOTS / f"issue7-cash-{name}-{suffix}.png"), full_page=True)


def _phone_hands_over(base: str, username: str, password: str) -> tuple[str, str, Decimal, Decimal]:
    """The collector's phone: logs in, registers, reads its cash in hand, and pushes a good
    handover of its two oldest cash payments and a bad one of the next (amount off by $ 1.000).
    Answers (good id, held id, the good one's amount, the held one's payment)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        r = http.post("/v1/auth/token", data={"username": username, "password": password})
        r.raise_for_status()
        user = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = http.post(
            "/v1/devices", json={"name": "e2e", "install_nonce": uuid.uuid4().hex}, headers=user
        )
        r.raise_for_status()
        device = r.json()
        r = http.get("/v1/cash/in-hand", headers=user)
        r.raise_for_status()
        (mine,) = r.json()["collectors"]
        payments = sorted(mine["payments"], key=lambda p: (p["paid_on"], p["receipt"]))
        assert len(payments) >= 3, "the demo collector took cash at least three times"
        good = payments[:2]
        amount = sum((Decimal(p["amount"]) for p in good), Decimal(0))
        bad = payments[2]

        now = datetime.now(UTC).astimezone(BOGOTA)

        def handover(seq: int, names: list[dict[str, Any]], total: Decimal) -> dict[str, Any]:
            return {
                "event_id": str(uuid.uuid4()),
                "device_seq": seq,
                "type": "cash.handed_over",
                "type_version": 1,
                "client_id": str(NO_CLIENT),
                "device_time": now.isoformat(timespec="seconds"),
                "payload": {
                    "amount": f"{total:.2f}",
                    "method": "bank_deposit",
                    "bank_reference": f"BCO-{seq:06d}",
                    "deposited_on": now.date().isoformat(),
                    "payment_event_ids": [p["event_id"] for p in names],
                },
            }

        events = [handover(1, good, amount), handover(2, [bad], Decimal(bad["amount"]) + 1000)]
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
        results = [(x["status"], x.get("reason")) for x in r.json()["results"]]
        assert results == [("applied", None), ("held", "handover_mismatch")]
        return events[0]["event_id"], events[1]["event_id"], amount, Decimal(bad["amount"])


def test_the_supervisor_confirms_and_rejects_handovers(tmp_path: Path) -> None:
    seeded, field = build_demo(Settings(data_dir=tmp_path, database_url=""))
    assert field.days
    collector = next(p for p in seeded.scenario.people if p.role == "collector")
    boss = next(p for p in seeded.scenario.people if p.role == "supervisor")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_server(tmp_path, ("RECAUDO_TILE_URL", "")) as base, sync_playwright() as pw:
        good, held, amount, returned = _phone_hands_over(
            base, collector.username, collector.password
        )
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, locale="es-CO")
        page = context.new_page()
        page.goto(f"{base}/supervisor/cash")
        page.get_by_label("Usuario").fill(boss.username)
        page.get_by_label("Contraseña").fill(boss.password)
        page.get_by_role("button", name="Ingresar").click()
        expect(page.get_by_role("heading", name="Efectivo en mano")).to_be_visible()

        # Both handovers left cash in hand (pending counts as handed over).
        # Every collector has a row; the demo week's cash is days old: highlighted.
        rows = page.locator("table.cash tbody tr[id^=collector-]")
        collectors = [p for p in seeded.scenario.people if p.role == "collector"]
        expect(rows).to_have_count(len(collectors))
        expect(page.locator("table.cash tbody tr.flagged").first).to_be_visible()
        mine = page.locator(f"#collector-{collector.username}")
        before = mine.locator("td").nth(1).inner_text()
        cards = page.locator("article.handover")
        expect(cards).to_have_count(2)
        held_card = page.locator(f"#handover-{held}")
        expect(held_card).to_contain_text("la entrega no cuadra con sus pagos")
        expect(held_card.get_by_role("button", name="Confirmar")).to_have_count(0)
        shoot(page, "pending")

        # Confirm the good one (its cash stays out of hand) with the amount seen in the bank,
        # typed the Colombian way.
        card = page.locator(f"#handover-{good}")
        card.get_by_label("Valor visto en el banco o la caja").fill(
            format_money(amount).replace("$", "").strip()
        )
        card.get_by_role("button", name="Confirmar").click()
        expect(page.get_by_role("status")).to_contain_text("Entrega confirmada")
        expect(page.locator(f"#handover-{good}")).to_have_count(0)

        # Reject the held one: its payment comes back to cash in hand.
        page.locator(f"#handover-{held}").get_by_label("Motivo del rechazo").fill(
            "El banco muestra otro valor"
        )
        page.locator(f"#handover-{held}").get_by_role("button", name="Rechazar").click()
        expect(page.get_by_role("status")).to_contain_text("Entrega rechazada")
        expect(page.locator("article.handover")).to_have_count(0)
        after = page.locator(f"#collector-{collector.username}").locator("td").nth(1).inner_text()
        assert _pesos(after) - _pesos(before) == returned
        shoot(page, "decided")

        # The collector's view through the API: both decisions, as the phone will learn them.
        with httpx.Client(base_url=base, timeout=30) as http:
            token = http.post(
                "/v1/auth/token",
                data={"username": collector.username, "password": collector.password},
            ).json()["access_token"]
            listed = http.get(
                "/v1/cash/handovers", headers={"Authorization": f"Bearer {token}"}
            ).json()
        assert {h["id"]: h["status"] for h in listed} == {good: "confirmed", held: "rejected"}
        browser.close()


def _pesos(text: str) -> Decimal:
    """ "$ 1.234.567" or "$ 1.234,50" as a Decimal."""
    digits = text.replace("$", "").replace("\xa0", "").replace(" ", "").replace(".", "")
    return Decimal(digits.replace(",", "."))
