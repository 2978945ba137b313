"""The crash loop: phones record field work and sync (push, pull) through the fault proxy while
uvicorn is `kill -9`ed over and over.

Each cycle lets traffic flow for a random moment, then ends the server one of two ways:
- timed: wait for a push to be forwarded (or not, one time in five: a random point), sleep a
  random part of the recent push latency (so kills land before, during and after the commit),
  then SIGKILL;
- after commit: the server was started armed to SIGKILL itself right after its n-th push commit
  (tests/chaos/server.py), so the response of a committed chunk is always lost.
and restarts it. The proxy meanwhile drops, cuts, delays, hangs, truncates and duplicates
requests. At the end the network heals, every outbox drains, and the invariants are checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos import invariants
from tests.chaos.phones import PushStats, SimPhone
from tests.chaos.proxy import Fault, FaultProxy, RandomFaults
from tests.chaos.scenario import Portfolio, fresh_database, register_phone, seed
from tests.chaos.server import ServerProcess, Zygote
from tests.e2e.live import free_port

FAULT_WEIGHTS = {
    Fault.DROP: 0.04,
    Fault.CUT_RESPONSE: 0.06,
    Fault.DELAY: 0.04,
    Fault.HANG: 0.005,
    Fault.TRUNCATE: 0.03,
    Fault.DUPLICATE: 0.04,
}


@dataclass(frozen=True)
class Config:
    engine: str  # sqlite | postgres
    kills: int
    postgres_base: str = ""
    postgres_name: str = "h_k_chaos"
    phones: int = 3  # two of them belong to the same collector
    collectors: int = 2
    clients_each: int = 6
    seed: int = 1
    after_commit_share: float = 0.25
    request_deadline: float = 2.0
    max_gap: float = 0.25  # seconds of traffic between kills, at most


@dataclass
class Report:
    engine: str
    kills_timed: int = 0
    kills_mid_request: int = 0  # timed kills with a push forwarded and unanswered
    kills_after_commit: int = 0
    restart_s: list[float] = field(default_factory=list)
    push: PushStats = field(default_factory=PushStats)
    faults: Counter[Fault] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    heal_cycles: int = 0
    heal_errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds
    violations: list[str] = field(default_factory=list)

    @property
    def kills(self) -> int:
        return self.kills_timed + self.kills_after_commit

    def lines(self) -> list[str]:
        restart = sorted(self.restart_s)
        faults = ", ".join(f"{f.value} {n}" for f, n in sorted(self.faults.items(), key=str))
        errors = ", ".join(f"{k} {n}" for k, n in self.push.errors.most_common())
        return [
            f"engine {self.engine}: {self.kills} kill -9 in {self.elapsed_s:.1f} s "
            f"({self.kills_timed} timed, {self.kills_mid_request} of them mid-request; "
            f"{self.kills_after_commit} just after a push commit)",
            f"  restart to port open: median {statistics.median(restart) * 1000:.0f} ms, "
            f"max {restart[-1] * 1000:.0f} ms",
            f"  pushes {self.push.requests}: ok {self.push.ok}, failed and retried "
            f"{self.push.failed}; pulls {self.push.pulls}, failed {self.push.pulls_failed} "
            f"({errors or 'no errors'})",
            f"  retries answered duplicate after a lost commit: {self.push.lost_but_committed}; "
            f"server errors (5xx, retried): {self.push.server_errors}",
            f"  proxy faults: {faults}",
            f"  events recorded: {sum(self.events.values())} "
            f"({', '.join(f'{k} {n}' for k, n in sorted(self.events.items()))})",
            "  phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.phases.items()),
            f"  healed in {self.heal_cycles} sync cycle(s); invariant violations: "
            f"{len(self.violations)}",
            *(f"  VIOLATION {v}" for v in self.violations[:20]),
            *(f"  heal error {e}" for e in self.heal_errors[:5]),
        ]


async def _phone_loop(
    phone: SimPhone, base: str, stop: asyncio.Event, stats: PushStats, deadline: float
) -> None:
    while not stop.is_set():
        await asyncio.to_thread(phone.record_some, phone.rng.randint(1, 6))
        report = await asyncio.to_thread(phone.sync, base, stats, deadline)
        if not report.ok:
            await asyncio.sleep(phone.rng.uniform(0.005, 0.04))  # back off, then retry
        else:
            await asyncio.sleep(phone.rng.uniform(0, 0.01))


async def _killer(
    cfg: Config,
    server: ServerProcess,
    proxy: FaultProxy,
    stats: PushStats,
    report: Report,
    rng: random.Random,
) -> None:
    armed = False
    while report.kills < cfg.kills:
        # Long enough between kills for some pushes to complete, whatever the machine's speed.
        gap = min(max(cfg.max_gap, 2 * stats.median_latency(0)), 4 * cfg.max_gap)
        await asyncio.sleep(rng.uniform(0, gap))
        if armed and await server.wait_dead(timeout=3.0):
            report.kills_after_commit += 1
        else:
            if rng.random() < 0.8:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proxy.wait_forwarded(), timeout=2.0)
                await asyncio.sleep(rng.uniform(0, 1.5 * stats.median_latency(0.05)))
            report.kills_mid_request += proxy.in_flight > 0
            server.kill()
            report.kills_timed += 1
        server.kill()  # reaps a self-killed child too
        # Never arm the last server: it must stay up while the phones heal.
        armed = report.kills < cfg.kills and rng.random() < cfg.after_commit_share
        await server.start(die_after_push_commits=rng.randint(1, 3) if armed else 0)
        report.restart_s.append(server.starts[-1])


async def _heal(phones: list[SimPhone], base: str, stats: PushStats, report: Report) -> None:
    """Sync every phone until a whole round is clean, at least twice: a phone's last pull must
    come after the other phones' last pushes for its mirror to match the server."""
    for cycle in range(1, 11):
        reports = [await asyncio.to_thread(p.sync, base, stats, 10.0) for p in phones]
        report.heal_cycles = cycle
        report.heal_errors += [f"{r.error_kind}: {r.error_message}" for r in reports if not r.ok]
        if cycle >= 2 and all(r.ok and r.pending_left == 0 for r in reports):
            return


class _Laps:
    def __init__(self, phases: dict[str, float]) -> None:
        self.phases = phases
        self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = now - self.last
        self.last = now


async def _phones(cfg: Config, portfolio: Portfolio, base: str, workdir: Path) -> list[SimPhone]:
    phones = []
    for n in range(cfg.phones):  # one by one: Alembic's migration context is process-global
        collector = portfolio.collectors[n % cfg.collectors]
        path = workdir / f"phone{n}.db"
        registered = await asyncio.to_thread(register_phone, base, collector, path)
        clients = [*collector.clients, portfolio.closed_client, portfolio.unknown_client]
        rng = random.Random(cfg.seed + n)
        phones.append(SimPhone(f"phone{n}", registered, str(collector.user_id), clients, rng))
    return phones


async def run(cfg: Config, workdir: Path, zygote: Zygote) -> Report:
    report = Report(cfg.engine)
    rng = random.Random(cfg.seed)
    began = time.perf_counter()
    lap = _Laps(report.phases)
    with fresh_database(cfg.engine, workdir, cfg.postgres_base, cfg.postgres_name) as url:
        portfolio = seed(url, collectors=cfg.collectors, clients_each=cfg.clients_each)
        server = ServerProcess(zygote, url, free_port(), workdir)
        try:
            await server.start()
            phones = await _phones(cfg, portfolio, f"http://127.0.0.1:{server.port}", workdir)
            lap("setup")
            plan = RandomFaults(FAULT_WEIGHTS, seed=cfg.seed)
            async with FaultProxy(server.port, plan, delay_s=0.1) as proxy:
                stop = asyncio.Event()
                loops = [
                    asyncio.create_task(
                        _phone_loop(p, proxy.url, stop, report.push, cfg.request_deadline)
                    )
                    for p in phones
                ]
                try:
                    await _killer(cfg, server, proxy, report.push, report, rng)
                finally:
                    stop.set()
                    await asyncio.gather(*loops)
                lap("kill loop")
                plan.enabled = False
                if not server.alive:
                    await server.start()
                await _heal(phones, proxy.url, report.push, report)
                report.faults = proxy.stats.faults
                lap("heal")
            server.kill()
            for p in phones:
                report.events.update(p.recorded.values())
            report.violations = await asyncio.to_thread(invariants.check, url, phones)
            if report.heal_cycles > 2:
                report.violations.append(f"liveness: {report.heal_cycles} cycles to drain")
            report.violations += report.push.unexpected
            for p in phones:
                p.close()
            lap("check")
        finally:
            server.kill()
    report.elapsed_s = time.perf_counter() - began
    return report


def run_in_tempdir(cfg: Config) -> Report:
    """One run with a zygote of its own (the benchmark's entry point)."""
    with tempfile.TemporaryDirectory(prefix="recaudo-chaos-") as tmp:
        zygote = Zygote(Path(tmp) / "server.log")
        try:
            return asyncio.run(run(cfg, Path(tmp), zygote))
        finally:
            zygote.close()
