"""Soak (issue 8): 500 phones through compressed collector days against uvicorn with 2 workers on
a fresh PostgreSQL database, for RECAUDO_SOAK_SECONDS (600 by default); `make soak`.

Seeded by the ledger import (collectors with ~60 clients each owing open invoices), one phone
registered per collector through the API, then `benchmarks/soak_devices.py` drives the days:
pull-heavy mornings, a trickle of one-event pushes with pulls by day, backlog bursts in gzip
chunks in the evening. Measured: latency p50/p95/p99 by request kind, errors (must be 0),
throughput, and each uvicorn worker's resident memory and CPU time (`benchmarks/soak_workers.py`,
sampled every few seconds): memory's first minute against its last and the slope, to say
whether it is flat.
Then the sync invariants on the server (exactly once, no phantom money, conservation,
projections) and each phone's mirror checksum against the server's for its collector.

Not part of `make bench` (its entry is `run`, not `main`): `python -m benchmarks.sync_soak`.
RECAUDO_SOAK_POSTGRES_URL names the PostgreSQL server (a fresh database named after it is created
and dropped); RECAUDO_SOAK_DEVICES, _SECONDS, _CYCLE_SECONDS and _DAY_EVENTS change the size;
RECAUDO_SOAK_RSS_CSV names a file for the workers' samples."""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from benchmarks import machine, write_section
from benchmarks.soak_devices import DayCycle, Phone, Tally, call, live
from benchmarks.soak_workers import Sampler, Worker
from benchmarks.sync_load import Device, server_exceptions, start_server
from server.db.engine import make_engine, make_session_factory
from server.repositories import changes as changes_repo
from sync.checksum import scope_checksum
from sync.protocol import ScopeChecksum
from tests.chaos import invariants
from tests.chaos.scenario import Collector, fresh_database, seed
from tests.e2e.live import free_port

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/recaudo_soak"
WORKERS = 2
ONLINE_SHARE = 0.2  # phones with signal all day (they sync each record); the rest sync at night
PHONE_DEADLINE = 20.0  # seconds: mobile/net/client.py Timeouts.deadline


def server_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "benchmarks.soak_app:app",
        "--workers", str(WORKERS), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


@dataclass
class SoakReport:
    devices: int
    seconds: float  # the days, first morning to the last pull
    cycles: int
    tally: Tally
    workers: list[Worker]
    samples: dict[int, list[tuple[float, int, float]]]  # per worker: seconds, KiB, CPU seconds
    client_cpu: float  # seconds of CPU the load generator used over the days
    violations: list[str]
    mirrors_equal: int
    mirror_problems: list[str]
    server_errors: Counter[str]

    def lines(self) -> list[str]:
        t = self.tally
        slow = sum(v > PHONE_DEADLINE for values in t.latencies.values() for v in values)
        server_cpu = sum(w.cpu_seconds for w in self.workers)
        return [
            "| request | count | p50 | p95 | p99 |",
            "|---|---|---|---|---|",
            *(
                f"| {kind} | {len(t.latencies[kind]):,} | "
                + " | ".join(f"{v:.0f} ms" for v in t.percentiles(kind))
                + " |"
                for kind in sorted(t.latencies)
            ),
            "",
            f"{self.devices} phones, {self.cycles} compressed days in {self.seconds:.0f} s: "
            f"{t.requests:,} requests ({t.requests / self.seconds:.0f}/s), {t.events:,} events "
            f"acknowledged ({t.events / self.seconds:.0f}/s); **errors: {len(t.errors)}**; "
            f"answers slower than the phone's {PHONE_DEADLINE:.0f} s deadline: {slow}.",
            f"CPU over the days: the two workers {server_cpu:.0f} s "
            f"({server_cpu / max(t.requests, 1) * 1000:.1f} ms per request), the load "
            f"generator {self.client_cpu:.0f} s, of {2 * self.seconds:.0f} s on 2 cores.",
            "",
            "| uvicorn worker | samples | RSS first minute | RSS last minute | slope (all) "
            "| slope (2nd half) | flat |",
            "|---|---|---|---|---|---|---|",
            *(
                f"| pid {w.pid} | {w.samples} | {w.first_mb:.1f} MB | {w.last_mb:.1f} MB "
                f"| {w.slope_all:+.2f} MB/min | {w.slope_late:+.2f} MB/min "
                f"| {'yes' if w.flat else '**no**'} |"
                for w in self.workers
            ),
            "",
            f"Invariants (exactly once, no phantom money, conservation, projections): "
            f"**{len(self.violations)} violations**. Mirror checksums equal to the server's: "
            f"**{self.mirrors_equal} of {self.devices}**.",
            *(f"- VIOLATION {v}" for v in self.violations[:10]),
            *(f"- MIRROR {v}" for v in self.mirror_problems[:10]),
            *(f"- {n} x {e}" for e, n in Counter(t.errors).most_common(5)),
            *(f"- server log: {n} x {e}" for e, n in self.server_errors.most_common(5)),
        ]


async def _register(
    http: httpx.AsyncClient, base: str, collector: Collector, tally: Tally
) -> Device:
    response = await call(
        http,
        tally,
        "register device",
        "POST",
        f"{base}/v1/devices",
        json={"name": "Moto G", "install_nonce": f"install-{uuid.uuid4().hex}"},
        headers=collector.bearer,
    )
    if response is None:
        raise RuntimeError(f"could not register a device for {collector.username}")
    body = response.json()
    return Device(body["device_id"], body["device_code"], body["device_token"], collector.clients)


@dataclass
class Days:
    phones: list[Phone]
    tally: Tally
    sampler: Sampler
    seconds: float
    cycles: int
    client_cpu: float


async def _drive(base: str, master: int, collectors: list[Collector], cfg: SoakConfig) -> Days:
    tally, sampler, stop = Tally(), Sampler(), asyncio.Event()
    n = len(collectors)
    # Idle connections expire on the client before uvicorn's 5 s keep-alive closes them: with
    # both at 5 s, a request sent on a connection the server is closing fails (ReadError).
    limits = httpx.Limits(
        max_connections=n + 10, max_keepalive_connections=n + 10, keepalive_expiry=3.0
    )
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        gate = asyncio.Semaphore(50)

        async def one(k: int, collector: Collector) -> Phone:
            async with gate:
                device = await _register(http, base, collector, tally)
            return Phone(device, k < n * ONLINE_SHARE, random.Random(k))

        phones = list(await asyncio.gather(*(one(k, c) for k, c in enumerate(collectors))))
        cycles = max(1, round(cfg.seconds / cfg.cycle_seconds))
        loop = asyncio.get_running_loop()
        cycle = DayCycle(loop.time() + 1, cfg.cycle_seconds, cycles, cfg.day_events)
        began, cpu = time.perf_counter(), time.process_time()  # the days: not registration
        sampling = asyncio.create_task(sampler.run(master, cfg.sample_seconds, stop))
        await asyncio.gather(*(live(http, base, p, cycle, tally) for p in phones))
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    stop.set()
    await sampling
    return Days(phones, tally, sampler, seconds, cycles, cpu)


def _mirrors(url: str, phones: list[Phone], collectors: list[Collector]) -> list[str]:
    """Each phone's mirror checksum against the last pull's and the database's, now."""
    problems = []
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            for phone, collector in zip(phones, collectors, strict=True):
                server = scope_checksum(changes_repo.scope_versions(session, collector.user_id))
                mine = scope_checksum(
                    (uuid.UUID(cid), version, balance)
                    for cid, (version, balance) in phone.mirror.items()
                )
                said = None
                if phone.checksum is not None:
                    said = ScopeChecksum.model_validate(phone.checksum)
                if not mine == said == server:
                    problems.append(
                        f"{collector.username}: mirror {mine}, last pull {said}, server {server}"
                    )
    finally:
        engine.dispose()
    return problems


@dataclass(frozen=True)
class SoakConfig:
    devices: int
    seconds: float
    cycle_seconds: float
    day_events: int
    clients_each: int = 60
    sample_seconds: float = 3.0


def soak(url: str, folder: Path, cfg: SoakConfig) -> SoakReport:
    """The whole soak on the migrated empty database `url`; the server is stopped on return."""
    portfolio = seed(url, collectors=cfg.devices, clients_each=cfg.clients_each)
    port = free_port()
    server = start_server(url, port, folder, server_command(port))
    try:
        days = asyncio.run(
            _drive(f"http://127.0.0.1:{port}", server.pid, portfolio.collectors, cfg)
        )
    finally:
        server.terminate()
        server.wait(timeout=60)
    sent: dict[str, invariants.PhoneEvent] = {}
    for phone in days.phones:
        d = phone.device
        sent |= invariants.expected_events(d.device_id, d.events, d.states)
    mirror_problems = _mirrors(url, days.phones, portfolio.collectors)
    return SoakReport(
        devices=cfg.devices,
        seconds=days.seconds,
        cycles=days.cycles,
        tally=days.tally,
        workers=days.sampler.summary(window=min(60.0, days.seconds / 4)),
        samples=days.sampler.samples,
        client_cpu=days.client_cpu,
        violations=invariants.check_server(url, sent),
        mirrors_equal=cfg.devices - len(mirror_problems),
        mirror_problems=mirror_problems,
        server_errors=server_exceptions(folder / "server.log"),
    )


def run() -> None:
    env = os.environ.get
    cfg = SoakConfig(
        devices=int(env("RECAUDO_SOAK_DEVICES", "500")),
        seconds=float(env("RECAUDO_SOAK_SECONDS", "600")),
        cycle_seconds=float(env("RECAUDO_SOAK_CYCLE_SECONDS", "120")),
        day_events=int(env("RECAUDO_SOAK_DAY_EVENTS", "12")),
    )
    base = env("RECAUDO_SOAK_POSTGRES_URL", DEFAULT_PG)
    name = f"{make_url(base).database}_{uuid.uuid4().hex[:8]}"
    load = os.getloadavg()
    with (
        tempfile.TemporaryDirectory(prefix="recaudo-soak-") as tmp,
        fresh_database("postgres", Path(tmp), base, name) as url,
    ):
        report = soak(url, Path(tmp), cfg)
    lines = [
        f"## Soak: {cfg.devices} phones, {WORKERS} uvicorn workers, compressed days "
        "(`benchmarks/sync_soak.py`)",
        "",
        f"Machine: {machine()}. PostgreSQL, uvicorn `--workers {WORKERS}`; load average "
        f"before the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min; the "
        "machine is shared). Latencies are measured by the load generator, which runs on the "
        "same cores.",
        "",
        f"Each cycle of {cfg.cycle_seconds:.0f} s is a day: morning (every phone pulls; "
        f"{cfg.clients_each} clients each), day ({cfg.day_events} records per phone; "
        f"{ONLINE_SHARE:.0%} of the phones push each one at once and pull), evening (the "
        "others push the day's backlog in gzip chunks, then pull).",
        "",
        *report.lines(),
    ]
    section = "\n".join(lines)
    print(section)  # noqa: T201
    write_section("sync_soak", section)
    if csv := env("RECAUDO_SOAK_RSS_CSV"):  # the samples themselves, to see the curve's shape
        rows = [f"{pid},{t:.1f},{kib},{cpu:.2f}" for pid, got in report.samples.items()
                for t, kib, cpu in got]  # fmt: skip
        Path(csv).write_text("pid,seconds,rss_kib,cpu_seconds\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    run()
