"""A request that waited out the connection pool's timeout (every connection busy: more requests
at once than the server serves, as the 500-phone soak's evening bursts did on a starved machine)
answers 503 `server_busy` with Retry-After, not 500: nothing was done, the phone retries."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool


def _exhausted_pool_error() -> PoolTimeout:
    """The error a real exhausted pool raises (one connection, held; the second checkout waits)."""
    engine = create_engine("sqlite://", poolclass=QueuePool, pool_size=1, max_overflow=0,
                           pool_timeout=0.05)  # fmt: skip
    try:
        with engine.connect() as held:
            held.execute(text("SELECT 1"))
            with pytest.raises(PoolTimeout) as caught, engine.connect():
                pass
        return caught.value
    finally:
        engine.dispose()


def test_pool_timeout_answers_503_server_busy(app: FastAPI) -> None:
    error = _exhausted_pool_error()

    @app.get("/test-only/pool")
    def pool() -> None:
        raise error

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test-only/pool")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "server_busy"
    assert int(response.headers["retry-after"]) >= 1
    assert "QueuePool" not in response.text  # no driver internals in the answer
