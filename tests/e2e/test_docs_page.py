"""The demo's front door, /docs, in a real Chromium with no internet: Swagger UI is served by us,
and a supervisor can log in through "Authorize" and list the seeded clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from server.cli.demo import build_demo
from server.settings import Settings
from tests.e2e.live import ARTIFACTS, CHROMIUM_ARGS, chromium_path, running_server

pytestmark = pytest.mark.e2e


def test_docs_work_offline_over_the_demo(tmp_path: Path) -> None:
    build_demo(Settings(data_dir=tmp_path, database_url=""))
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with running_server(tmp_path) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        outside: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(base) else None,
        )
        page.goto(f"{base}/docs")
        expect(page.get_by_role("heading", name="Recaudo")).to_be_visible(timeout=15_000)
        expect(page.get_by_text("/v1/clients/{client_id}/statement")).to_be_visible()
        page.screenshot(path=str(shots / "docs.png"))

        page.get_by_role("button", name="Authorize").first.click()
        dialog = page.locator(".dialog-ux")
        dialog.locator("#oauth_username").fill("supervisor")
        dialog.locator("#oauth_password").fill("supervisor-demo-2026")
        dialog.get_by_role("button", name="Apply given OAuth2 credentials").click()
        expect(dialog.locator("button", has_text="Logout")).to_be_visible(timeout=10_000)
        dialog.locator("button", has_text="Close").click()

        operation = page.locator("#operations-clients-list_clients_v1_clients_get")
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.get_by_role("button", name="Execute").click()
        response = operation.locator(".live-responses-table tbody .response-col_status").first
        expect(response).to_have_text("200", timeout=10_000)
        expect(operation.locator(".live-responses-table")).to_contain_text('"total": 300')
        body = operation.locator(".live-responses-table tbody .response-col_description").first
        body.scroll_into_view_if_needed()
        page.mouse.wheel(0, 250)
        page.wait_for_timeout(800)
        page.screenshot(path=str(shots / "docs-clients.png"))
        browser.close()
    assert outside == [], f"the page reached outside the server: {outside[:3]}"
