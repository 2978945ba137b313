"""The uvicorn workers of the soak seen from outside (/proc): resident memory (VmRSS) and CPU
time of each of the master's children, sampled every few seconds, and what they say: first
minute against last minute, the slope, flat or not."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

MB = 1024.0  # KiB per MiB
_TICK = os.sysconf("SC_CLK_TCK")


def worker_pids(master: int) -> list[int]:
    """uvicorn's workers: the master's children started by multiprocessing (spawn)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    pids = []
    for pid in map(int, children):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(pid)
        except OSError:
            continue
    return sorted(pids)


def usage(pid: int) -> tuple[int, float] | None:
    """(VmRSS in KiB, user + system CPU seconds) of a live process, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return rss, (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


@dataclass
class Sampler:
    """Samples per worker pid: (seconds since the start, VmRSS KiB, CPU seconds)."""

    samples: dict[int, list[tuple[float, int, float]]] = field(default_factory=dict)

    async def run(self, master: int, every: float, stop: asyncio.Event) -> None:
        began = time.monotonic()
        while not stop.is_set():
            for pid in worker_pids(master):
                if (found := usage(pid)) is not None:
                    self.samples.setdefault(pid, []).append((time.monotonic() - began, *found))
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                continue

    def summary(self, window: float) -> list[Worker]:
        return [Worker.of(pid, rows, window) for pid, rows in sorted(self.samples.items())]


@dataclass(frozen=True)
class Worker:
    pid: int
    samples: int
    first_mb: float  # mean over the first `window` seconds
    last_mb: float  # mean over the last `window` seconds
    slope_all: float  # MB per minute, least squares over every sample
    slope_late: float  # MB per minute over the second half (after the caches warmed up)
    cpu_seconds: float  # between the first sample and the last

    @classmethod
    def of(cls, pid: int, rows: list[tuple[float, int, float]], window: float) -> Worker:
        end = rows[-1][0]
        first = [kib for t, kib, _ in rows if t <= rows[0][0] + window]
        last = [kib for t, kib, _ in rows if t >= end - window]
        memory = [(t, kib) for t, kib, _ in rows]
        return cls(
            pid=pid,
            samples=len(rows),
            first_mb=sum(first) / len(first) / MB,
            last_mb=sum(last) / len(last) / MB,
            slope_all=_slope(memory),
            slope_late=_slope([row for row in memory if row[0] >= end / 2]),
            cpu_seconds=rows[-1][2] - rows[0][2],
        )

    @property
    def flat(self) -> bool:
        """Flat: under 1 MB per minute after warm-up, and the last minute within 10% of the
        first (a leak of a few KB per request shows as both)."""
        return self.slope_late < 1.0 and self.last_mb <= 1.1 * self.first_mb


def _slope(rows: list[tuple[float, int]]) -> float:
    """Least-squares MB per minute of (seconds, KiB) samples."""
    if len(rows) < 2:
        return 0.0
    n = len(rows)
    mean_t = sum(t for t, _ in rows) / n
    mean_m = sum(kib for _, kib in rows) / n
    var = sum((t - mean_t) ** 2 for t, _ in rows)
    cov = sum((t - mean_t) * (kib - mean_m) for t, kib in rows)
    return cov / var / MB * 60 if var else 0.0
