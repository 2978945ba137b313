"""The supervisor's pages in a real Chromium over the demo (a real `recaudo serve` process):
log in, the team's week, a collector's day on the map (one marker per visit, the line, the
flagged visit highlighted), resolving a review item, reassigning a client, a statement, an XLSX
export opened with openpyxl; screenshots of every page at a phone and a desktop size."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect, sync_playwright

from server.cli.demo import build_demo
from server.settings import Settings
from tests.e2e.live import ARTIFACTS, CHROMIUM_ARGS, chromium_path, running_server

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SHOTS = ARTIFACTS / "screenshots"


def shoot(page: Page, name: str) -> None:
    """The same page at both sizes (full page), then back to the desktop size."""
    for size, suffix in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(size)
        page.wait_for_timeout(400)
        page.screenshot(path=str(SHOTS / f"supervisor-{name}-{suffix}.png"), full_page=True)


def test_a_supervisors_monday_morning(tmp_path: Path) -> None:
    seeded, field = build_demo(Settings(data_dir=tmp_path, database_url=""))
    assert field.days, "the demo seeds a week of field work"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_server(tmp_path, ("RECAUDO_TILE_URL", "")) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="es-CO")
        outside: list[str] = []
        context.on(
            "request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None
        )
        page = context.new_page()

        # Anonymous: sent to the login form, which then brings us back.
        page.goto(f"{base}/supervisor/review")
        expect(page).to_have_url(re.compile(r"/supervisor/login\?next="))
        shoot(page, "login")
        page.get_by_label("Usuario").fill("supervisor")
        page.get_by_label("Contraseña").fill("supervisor-demo-2026")
        page.get_by_role("button", name="Ingresar").click()
        expect(page.get_by_role("heading", name="Cola de revisión")).to_be_visible()

        # The team's week: every demo collector has a row.
        page.get_by_role("link", name="Semana").click()
        expect(page.get_by_role("heading", name="Semana del equipo")).to_be_visible()
        team = page.locator("table.team tbody th[scope=row]")
        expect(team).to_have_count(len(seeded.scenario.collectors))
        expect(page.locator("svg.chart")).to_be_visible()
        shoot(page, "week")

        # A collector's day with a flagged visit (the demo's far-away visit).
        day = _day_with_flag(page, base, field.days)
        rows = page.locator("table.visits tbody tr")
        visits = rows.count()
        assert visits > 0
        flagged_rows = page.locator("table.visits tbody tr.flagged").count()
        assert flagged_rows >= 1
        frame = page.frame_locator("iframe.day-map")
        markers = frame.locator("path.visit-marker")
        expect(markers).to_have_count(visits, timeout=15_000)
        expect(frame.locator("path.visit-line")).to_have_count(1)
        expect(frame.locator("path.plan-line")).to_have_count(1)
        expect(frame.locator("path.visit-marker.flagged")).to_have_count(flagged_rows)
        expect(frame.locator(".stop-number").first).to_be_visible()
        shoot(page, "day")
        flags = page.locator("table.visits tbody tr.flagged .flags").first.inner_text()
        frame.locator("path.visit-marker.flagged").first.click(force=True)
        expect(frame.locator(".leaflet-popup-content")).to_contain_text(flags.strip("⚠ "))
        assert day in field.days

        # The review queue: resolve the first flagged visit.
        page.goto(f"{base}/supervisor/review?kind=flagged_visit")
        items = page.locator("article.review-item")
        before = items.count()
        assert before >= 1
        shoot(page, "review")
        first = items.first
        item_id = (first.get_attribute("id") or "").removeprefix("item-")
        first.get_by_label("Nota").fill("Llamé al gestor: el cliente se mudó")
        first.get_by_role("button", name="Justificada", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text(f"Ítem {item_id} resuelto")
        expect(page.locator(f"#item-{item_id}")).to_have_count(0)

        # Clients: search one, give it to another collector.
        page.get_by_role("link", name="Clientes").click()
        page.get_by_label("Buscar").fill("C-00007")
        page.get_by_role("button", name="Buscar").click()
        row = page.locator("table.clients tbody tr").first
        expect(row).to_contain_text("C-00007")
        current = row.locator("select").input_value()
        target = next(p.username for p in seeded.scenario.collectors if p.username != current)
        row.locator("select").select_option(target)
        shoot(page, "clients")
        row.get_by_role("button", name="Reasignar").click()
        expect(page.get_by_role("status")).to_contain_text("Cliente C-00007 reasignado")
        expect(page.locator("table.clients tbody tr").first.locator("select")).to_have_value(target)

        # Its statement, printable, and as a PDF.
        page.locator("table.clients tbody tr").first.get_by_role(
            "link", name="Estado de cuenta"
        ).click()
        expect(page.get_by_role("heading", name="Estado de cuenta")).to_be_visible()
        shoot(page, "statement")
        with page.expect_download() as pdf_download:
            page.get_by_role("link", name="PDF").click()
        assert pdf_download.value.suggested_filename.startswith("estado-de-cuenta-C-00007")
        assert Path(pdf_download.value.path()).read_bytes().startswith(b"%PDF")

        # The reports page: the weekly counts as a spreadsheet, downloaded with the cookie.
        page.get_by_role("link", name="Informes").click()
        shoot(page, "exports")
        with page.expect_download() as xlsx_download:
            page.locator("a[data-export=weekly-visits-xlsx]").click()
        book = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
        sheet = book.worksheets[0]
        text = "\n".join(
            " ".join(str(c) for c in row if c is not None)
            for row in sheet.iter_rows(values_only=True)
        )
        assert "gestor1" in text
        browser.close()
    assert outside == [], f"the pages reached outside the server: {outside[:3]}"


def _day_with_flag(page: Page, base: str, days: list[date]) -> date:
    """Open collectors' days until one shows a flagged visit (the demo has a far-away visit)."""
    for day in days:
        for n in range(1, 6):
            page.goto(f"{base}/supervisor/collectors/gestor{n}/days/{day.isoformat()}")
            if page.locator("table.visits tbody tr.flagged").count():
                return day
    raise AssertionError("no day of the demo shows a flagged visit")
