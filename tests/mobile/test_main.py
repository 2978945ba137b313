"""The composition root's wiring: the sync round the UI runs, and settings over the command line."""

from __future__ import annotations

import argparse

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from mobile.main import make_syncer, settings_from
from mobile.settings import OSM_TILES, MobileSettings
from mobile.state.app import SyncPhase
from tests.mobile.pages import page


def no_progress(phase: SyncPhase, count: int) -> None:
    pass


def test_every_sync_request_carries_the_configured_deadline(db: sessionmaker[Session]) -> None:
    timeouts: list[dict[str, float]] = []

    def server(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(200, content=page(cursor="c1").model_dump_json())

    settings = MobileSettings(request_deadline_s=3.0)
    result = make_syncer(db, settings, httpx.MockTransport(server))(no_progress)
    assert result.ok, result.error
    assert timeouts and all(max(t.values()) == 3.0 for t in timeouts)  # each phase capped


def test_a_local_database_error_is_a_message_not_a_crash(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        session.execute(text("DROP TABLE outbox"))  # what a damaged file looks like to SQL
    never = httpx.MockTransport(lambda _: pytest.fail("no request expected"))
    result = make_syncer(db, MobileSettings(), never)(no_progress)
    assert (result.ok, result.problem) == (False, "other")
    assert "outbox" in result.error and len(result.error) <= 160


def test_tile_url_comes_from_the_environment_and_the_command_line_overrides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RECAUDO_MOBILE_TILE_URL", raising=False)
    assert settings_from(argparse.Namespace(tile_url=None)).tile_url == OSM_TILES
    monkeypatch.setenv("RECAUDO_MOBILE_TILE_URL", "http://tiles.local/{z}/{x}/{y}.png")
    assert settings_from(argparse.Namespace(tile_url=None)).tile_url == (
        "http://tiles.local/{z}/{x}/{y}.png"
    )
    assert settings_from(argparse.Namespace(tile_url="")).tile_url == ""  # no tiles
