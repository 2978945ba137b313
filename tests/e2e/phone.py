"""The collector app in web mode (`python -m mobile.main --web`, no CDN) and a server that can be
stopped and started again on the same port, for the phone's end-to-end test."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import Page, expect

from server.main import create_app
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer:\n{log.read_text()}") from None
            time.sleep(0.2)


class Server:
    """The real server app over HTTP (uvicorn) on a fixed port, in a thread of the test process
    so that stopping and starting it again costs milliseconds, not a Python start-up; the phone
    finds it again at the same address."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.base = f"http://127.0.0.1:{port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        app = create_app(Settings(data_dir=self.data_dir, database_url="", environment="test"))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = self._thread = None


@contextmanager
def running_app(
    data_dir: Path, port: int, server_url: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The app's own process, as `make demo` runs it (without map tiles: no internet here);
    yields its URL and the process, so a test can start other work while it boots."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "app.log"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}  # never the desktop client
    # Background sync on a short leash: a cycle soon after each record, and while the server
    # is down a retry within 2 s at most, so "back in coverage" is seen in seconds.
    env |= {
        "RECAUDO_MOBILE_SYNC_DEBOUNCE_S": "1",
        "RECAUDO_MOBILE_SYNC_BACKOFF_BASE_S": "1",
        "RECAUDO_MOBILE_SYNC_BACKOFF_CAP_S": "2",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mobile.main", "--web", "--port", str(port),
             "--data-dir", str(data_dir), "--server", server_url, "--tile-url", ""],
            cwd=ROOT, env=env, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}/", proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a loaded machine: do not leave it holding the port
            proc.kill()
            proc.wait(timeout=15)


def open_flutter(page: Page, url: str) -> None:
    """Load the app and switch on Flutter's accessibility tree so roles and labels exist."""
    page.goto(url)
    page.wait_for_selector("flutter-view", timeout=60_000)
    page.locator("flt-semantics-placeholder").evaluate("e => e.click()")
    page.wait_for_selector("flt-semantics", timeout=30_000)


def retype(page: Page, label: str, value: str) -> None:
    """Replace a field's value: focus first (a select-all before the focus lands selects
    nothing), clear, type, check the field shows it, and let the last change events reach the
    app."""
    field = page.get_by_label(label)
    field.click()
    page.wait_for_timeout(300)
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.type(value)
    expect(field).to_have_value(value)
    page.wait_for_timeout(500)


def type_into(page: Page, label: str, value: str) -> None:
    # click + keyboard: `fill()` loses values on Flutter text fields (research/flet.md)
    page.get_by_label(label).click()
    page.wait_for_timeout(300)
    page.keyboard.type(value)
    # The last keystrokes' change events reach the app after the canvas shows them; on a
    # loaded machine a tap right away could be handled first (seen: a date saved half typed).
    page.wait_for_timeout(500)
