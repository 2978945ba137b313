"""Every error leaves the server as {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.errors import Conflict, InvalidInput, RateLimited


def _attach(app: FastAPI) -> None:
    @app.get("/test-only/conflict")
    def conflict() -> None:
        raise Conflict("ya existe", code="already_there", details={"id": 7})

    @app.get("/test-only/invalid")
    def invalid() -> None:
        raise InvalidInput("no", code="bad_thing")

    @app.get("/test-only/throttled")
    def throttled() -> None:
        raise RateLimited("espere", retry_after_s=42)

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/test-only/typed")
    def typed(n: int) -> int:
        return n


def test_error_shapes(app: FastAPI) -> None:
    _attach(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/test-only/conflict")
        assert r.status_code == 409
        assert r.json() == {
            "error": {"code": "already_there", "message": "ya existe", "details": {"id": 7}}
        }

        assert client.get("/test-only/invalid").json()["error"]["code"] == "bad_thing"
        assert client.get("/test-only/invalid").status_code == 422

        r = client.get("/test-only/throttled")
        assert (r.status_code, r.headers["retry-after"]) == (429, "42")

        r = client.get("/test-only/typed", params={"n": "not-a-number"})
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "invalid_input"
        assert r.json()["error"]["details"][0]["loc"] == ["query", "n"]

        r = client.get("/nowhere")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")

        r = client.delete("/healthz")
        assert (r.status_code, r.json()["error"]["code"]) == (405, "method_not_allowed")

        r = client.get("/test-only/boom")
        assert r.status_code == 500
        assert r.json()["error"]["code"] == "internal_error"
        assert "hunter2" not in r.text
