from __future__ import annotations

import pytest
from pydantic import ValidationError

from server.main import create_app
from server.settings import DEV_SIGNING_KEY, Settings


def test_production_refuses_the_development_signing_key() -> None:
    with pytest.raises(RuntimeError, match="RECAUDO_SIGNING_KEY"):
        create_app(Settings(environment="production", database_url="sqlite://"))
    with pytest.raises(RuntimeError):
        Settings(environment="production", signing_key="short").check_production_ready()
    Settings(environment="production", signing_key="x" * 40).check_production_ready()
    assert Settings().signing_key == DEV_SIGNING_KEY  # development works out of the box


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECAUDO_TIMEZONE", "America/Lima")
    monkeypatch.setenv("RECAUDO_AGING_EDGES", "[15, 45]")
    settings = Settings()
    assert settings.tz.key == "America/Lima"
    assert settings.aging_edges == (15, 45)


@pytest.mark.parametrize(
    ("name", "value"),
    [("RECAUDO_TIMEZONE", "Mars/Olympus"), ("RECAUDO_AGING_EDGES", "[30, 20]")],
)
def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
