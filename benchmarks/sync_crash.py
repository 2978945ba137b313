"""The crash loop at benchmark size: phones on the real sync loop push and pull through the fault
proxy while the uvicorn server is `kill -9`ed hundreds of times (tests/chaos/crashloop.py), on
SQLite and PostgreSQL; after healing, the sync invariants are checked and the report printed.

Reference measured in the same run: a cold server start (a new Python process importing the app)
next to the zygote's restart after a kill, which is what makes hundreds of kills affordable.
RECAUDO_BENCH_CRASH_KILLS sets the kills per engine (default 300)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks import machine, write_section
from tests.chaos.crashloop import Config, Report, run_in_tempdir

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/recaudo_bench"
ROOT = Path(__file__).resolve().parent.parent


def cold_start_s(repeats: int = 3) -> float:
    """Median time for a new interpreter to import the server module the zygote preloads."""
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import tests.chaos.server"], check=True, cwd=ROOT)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    kills = int(os.environ.get("RECAUDO_BENCH_CRASH_KILLS", "300"))
    engines = ["sqlite", "postgres"]
    pg = os.environ.get("RECAUDO_BENCH_POSTGRES_URL", DEFAULT_PG)
    cold = cold_start_s()
    reports: list[Report] = []
    for engine in engines:
        cfg = Config(
            engine=engine,
            kills=kills,
            postgres_base=pg,
            postgres_name=f"recaudo_bench_crash_{uuid.uuid4().hex[:8]}",
            phones=4,
            collectors=3,
            clients_each=8,
        )
        report = run_in_tempdir(cfg)
        print("\n".join(report.lines()), flush=True)  # noqa: T201
        reports.append(report)
    lines = [
        "## kill -9 crash loop (`benchmarks/sync_crash.py`)",
        "",
        f"Machine: {machine()}.",
        "",
        "Four phones (two of them one collector's) record visits, promises, payments and voids "
        "with the real phone code and sync with the real sync loop (push chunks of 50, pull) "
        "through the fault proxy (drop, cut response, delay, hang, truncate, duplicate), while "
        "the server is killed with SIGKILL at random points: timed kills a random part of the "
        "recent push latency after a request is forwarded, and kills just after a push commit "
        "(a test-only hook in the server child). Then the network heals, every phone syncs "
        "until clean, and the invariants are checked.",
        "",
        "| engine | kills (timed / mid-request / after commit) | pushes ok / failed | "
        "lost commits retried | restart median | violations |",
        "|---|---|---|---|---|---|",
    ]
    for r in reports:
        restart = statistics.median(r.restart_s) * 1000
        lines.append(
            f"| {r.engine} | {r.kills} ({r.kills_timed} / {r.kills_mid_request} / "
            f"{r.kills_after_commit}) | {r.push.ok} / {r.push.failed} | "
            f"{r.push.lost_but_committed} | {restart:.0f} ms | **{len(r.violations)}** |"
        )
    restart_all = statistics.median([s for r in reports for s in r.restart_s])
    lines += [
        "",
        f"Restart after a kill (zygote fork to port open): median {restart_all * 1000:.0f} ms; "
        f"reference, a cold interpreter importing the app: {cold:.2f} s "
        f"(**{cold / restart_all:.0f}×** slower).",
        "",
        "```",
        *(line for r in reports for line in r.lines()),
        "```",
    ]
    section = "\n".join(lines)
    print(section)  # noqa: T201
    write_section("sync_crash", section)


if __name__ == "__main__":
    main()
