"""PostgreSQL restarted under traffic (issue 8, "Faults"), on a private cluster of its own.

A real uvicorn server (tests/chaos/server.py) on a database of a private PostgreSQL cluster
(tests/chaos/pgcluster.py, never the shared one on :5432); phones running the real phone code push
and pull in a loop through a pass-through proxy (which says when a push is in flight). While a
push is in flight PostgreSQL is restarted with `pg_ctl restart -m fast`, then `-m immediate` (a
crash: recovery from the WAL), then stopped for a while and started again. The server process is
never touched: it must answer what failed meanwhile as a retriable error (503
`database_unavailable`, never a 500) and serve again by itself once PostgreSQL is back (stale
pooled connections are pre-pinged or invalidated). After the traffic stops every phone drains,
the invariants hold and every mirror converges.

The short deterministic version, at the HTTP level: `test_request_after_restart_is_served` and
`test_database_down_answers_503`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server.db import migrate
from server.main import create_app
from server.settings import Settings
from tests.chaos import invariants
from tests.chaos.crashloop import Config, Report, _heal, _phone_loop, _phones
from tests.chaos.pgcluster import Mode, PrivateCluster, available
from tests.chaos.phones import PushStats
from tests.chaos.proxy import FaultProxy
from tests.chaos.scenario import seed
from tests.chaos.server import SIGNING_KEY, ServerProcess, Zygote
from tests.e2e.live import free_port

WHY_NOT = available()


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    if WHY_NOT:
        pytest.skip(WHY_NOT)
    with PrivateCluster() as c:  # stopped and deleted whatever the test did
        c.start()
        yield c


def _fresh(cluster: PrivateCluster, name: str) -> str:
    url = cluster.create_database(name)
    migrate.upgrade(url)
    return url


# --- the deterministic checks ------------------------------------------------------------------


@pytest.fixture
def client(cluster: PrivateCluster, tmp_path: Path) -> Iterator[TestClient]:
    url = _fresh(cluster, "recaudo_http")
    settings = Settings(
        environment="test", database_url=url, data_dir=tmp_path, signing_key=SIGNING_KEY
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield http
    app.state.engine.dispose()


def _who_am_i(http: TestClient) -> int:
    """A request that reads the database and writes nothing (an unknown device token: 401 when
    PostgreSQL answers)."""
    return _me(http).status_code


def _me(http: TestClient) -> httpx.Response:
    response: httpx.Response = http.get(
        "/v1/me", headers={"Authorization": "Bearer rdt_not-a-device"}
    )
    return response


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_request_after_restart_is_served(
    cluster: PrivateCluster, client: TestClient, mode: Mode
) -> None:
    """Every pooled connection died with the restart: the next request still gets an answer
    from the database, not an error."""
    assert _who_am_i(client) == 401
    assert _who_am_i(client) == 401  # the pool now holds a connection
    cluster.restart(mode)
    assert _who_am_i(client) == 401


def test_database_down_answers_503(cluster: PrivateCluster, client: TestClient) -> None:
    assert _who_am_i(client) == 401
    cluster.stop("fast")
    response = _me(client)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert int(response.headers["retry-after"]) >= 1
    cluster.start()
    assert _who_am_i(client) == 401


# --- under traffic -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    z = Zygote(tmp_path_factory.mktemp("zygote") / "server.log")
    yield z
    z.close()


async def _progress(stats: PushStats, more_than: int, what: str) -> int:
    """Wait for the phones' successful pushes to pass `more_than` (a liveness bound, not a
    timing: a server that never recovers fails here instead of hanging the suite)."""
    for _ in range(6000):
        if stats.ok > more_than:
            return stats.ok
        await asyncio.sleep(0.02)
    raise AssertionError(f"no successful push {what} ({stats.ok} so far, {stats.errors})")


async def _fault(cluster: PrivateCluster, fault: str) -> None:
    if fault == "stop-start":  # down long enough for the phones to see it
        await asyncio.to_thread(cluster.stop, "fast")
        await asyncio.sleep(1.0)
        await asyncio.to_thread(cluster.start)
    else:
        await asyncio.to_thread(cluster.restart, fault)  # type: ignore[arg-type]


@pytest.mark.e2e
@pytest.mark.anyio
async def test_postgres_restart_under_traffic(
    cluster: PrivateCluster, zygote: Zygote, tmp_path: Path
) -> None:
    url = _fresh(cluster, "recaudo_chaos")
    cfg = Config(engine="postgres", kills=0)
    portfolio = seed(url, collectors=cfg.collectors, clients_each=cfg.clients_each)
    server = ServerProcess(zygote, url, free_port(), tmp_path)
    report = Report("postgres")
    stats = report.push
    faults = ["fast", "immediate", "stop-start", "fast"]
    rng = random.Random(cfg.seed)
    try:
        await server.start()
        pid = server.pid
        phones = await _phones(cfg, portfolio, f"http://127.0.0.1:{server.port}", tmp_path)
        async with FaultProxy(server.port) as proxy:  # pass-through: it only tells in-flight
            stop = asyncio.Event()
            loops = [
                asyncio.create_task(_phone_loop(p, proxy.url, stop, stats, 5.0)) for p in phones
            ]
            mid_request = 0
            try:
                ok = await _progress(stats, 5, "before the first restart")
                for fault in faults:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(proxy.wait_forwarded(), timeout=5.0)
                    await asyncio.sleep(rng.uniform(0, 0.02))
                    mid_request += proxy.in_flight > 0
                    await _fault(cluster, fault)
                    ok = await _progress(stats, ok + 5, f"after pg_ctl {fault}")
            finally:
                stop.set()
                await asyncio.gather(*loops)
            assert server.alive and server.pid == pid  # recovered by itself, never restarted
            await _heal(phones, proxy.url, stats, report)
        for p in phones:
            report.events.update(p.recorded.values())
        server.kill()
        violations = await asyncio.to_thread(invariants.check, url, phones)
        for p in phones:
            p.close()
    finally:
        server.kill()
    errors = ", ".join(f"{k} {n}" for k, n in stats.errors.most_common())
    print(
        f"\nPostgreSQL {', '.join(faults)} under traffic ({mid_request} with a push in flight): "
        f"pushes {stats.requests}, ok {stats.ok}, failed {stats.failed}; pulls {stats.pulls}, "
        f"failed {stats.pulls_failed} ({errors or 'no errors'}); events "
        f"{sum(report.events.values())}; healed in {report.heal_cycles} cycle(s); "
        f"crash recovery ran: {cluster.recovered_from_crash()}; violations {violations}"
    )
    assert violations == []
    assert stats.unexpected == []  # every failure was retriable
    assert not [k for k in stats.errors if k.endswith(" 500")]  # 503, never a 500
    assert report.heal_cycles <= 2 and not report.heal_errors
    assert stats.failed + stats.pulls_failed > 0  # the restarts were felt
    assert cluster.recovered_from_crash()
