"""`recaudo serve` as a real process over a real socket: migrates an empty database and serves."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.live import running_server

pytestmark = pytest.mark.e2e


def test_serve_migrates_and_answers(tmp_path: Path) -> None:
    with running_server(tmp_path) as base:
        assert httpx.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
        spec = httpx.get(f"{base}/openapi.json", timeout=5).json()
        assert spec["info"]["title"] == "Recaudo"
        assert (tmp_path / "recaudo.db").exists()  # the default SQLite file, migrated
        missing = httpx.get(f"{base}/no/such/page", timeout=5)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
