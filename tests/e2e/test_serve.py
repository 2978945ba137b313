"""`recaudo serve` as a real process over a real socket: migrates an empty database and serves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_migrates_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = os.environ | {"RECAUDO_DATA_DIR": str(tmp_path), "RECAUDO_DATABASE_URL": ""}
    recaudo = Path(sys.executable).with_name("recaudo")
    proc = subprocess.Popen(
        [str(recaudo), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "server did not start in 30 s"
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        spec = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        assert spec["info"]["title"] == "Recaudo"
        assert (tmp_path / "recaudo.db").exists()  # the default SQLite file, migrated
        missing = httpx.get(f"http://127.0.0.1:{port}/no/such/page", timeout=5)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
