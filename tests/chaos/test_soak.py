"""A short soak (`benchmarks/sync_soak.py`, `make soak` runs 500 phones for 10 minutes): phones
through a compressed collector day against uvicorn with 2 workers on PostgreSQL. No request may
fail, every sync invariant holds and each phone's mirror checksum equals the server's. Memory is
printed (-rP), not asserted: a few seconds say nothing about a leak."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.sync_soak import SoakConfig, soak
from tests.chaos.scenario import fresh_database
from tests.pg import require_postgres, worker_database_name

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_short_soak_on_two_workers_keeps_every_invariant(tmp_path: Path) -> None:
    base = require_postgres()
    cfg = SoakConfig(
        devices=int(os.environ.get("RECAUDO_SOAK_TEST_DEVICES", "40")),
        seconds=16,
        cycle_seconds=16,
        day_events=12,
    )
    with fresh_database("postgres", tmp_path, base, worker_database_name(base, "soak")) as url:
        report = soak(url, tmp_path, cfg)
    print("\n".join(report.lines()))
    assert report.tally.errors == []
    assert report.server_errors == {}
    assert report.violations == []
    assert report.mirror_problems == []
    assert report.tally.events > 0
    assert len(report.workers) == 2  # both workers were there and sampled
    kinds = set(report.tally.latencies)
    assert {"pull, first sync", "push, day (1 event)", "push, evening backlog"} <= kinds
