"""kill -9 of a real uvicorn server while phones push through the fault proxy, on SQLite and
PostgreSQL: after healing, every invariant of the sync protocol holds.

`make test` runs a short loop (RECAUDO_CHAOS_KILLS, default 8 kills per engine); `make chaos`
runs 1,000 per engine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.crashloop import Config, run
from tests.chaos.server import Zygote
from tests.pg import require_postgres, worker_database_name

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    z = Zygote(tmp_path_factory.mktemp("zygote") / "server.log")
    yield z
    z.close()


def _postgres() -> tuple[str, str]:
    base = require_postgres()
    return base, worker_database_name(base, "chaos")


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_kill_9_loop_keeps_every_invariant(
    engine: str, zygote: Zygote, tmp_path: Path
) -> None:
    base, name = _postgres() if engine == "postgres" else ("", "")
    kills = int(os.environ.get("RECAUDO_CHAOS_KILLS", "8"))
    cfg = Config(engine=engine, kills=kills, postgres_base=base, postgres_name=name)
    report = await run(cfg, tmp_path, zygote)
    print("\n".join(report.lines()))
    assert report.violations == []
    assert report.kills >= kills
    assert report.push.ok > 0 and report.push.failed > 0  # the loop both hurt and let through
    assert sum(report.events.values()) > 0
