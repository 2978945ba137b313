"""The simulated phones of the soak (`benchmarks/sync_soak.py`): a collector's day compressed in
time and repeated, each phone keeping a client mirror from its pulls like the real app.

One cycle of `seconds`: the first quarter is the morning (every phone opens the app and pulls:
the first time a first sync, then incremental; a few phones start over from an empty cursor, as a
new or reset phone does), the middle half the day (each phone records a visit, a promise or a
payment every so often; the online ones push it right away and pull, the others keep it in
their outbox), the last quarter the evening (back on Wi-Fi, the day's backlog goes in gzip
chunks of up to 200 events, then a pull). Every request is timed by kind; any non-2xx answer or
transport error is an error (retried like the phone does, so the invariants still see the
events)."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from benchmarks.sync_load import BOGOTA, Device, field_event

PULL_LIMIT = 500
ATTEMPTS = 6  # then the phone gives up until its next sync: its events stay pending


@dataclass
class Tally:
    """What every phone's requests met: latency by kind, errors, acknowledged events."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    events: int = 0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def percentiles(self, kind: str) -> tuple[float, float, float]:
        """p50, p95, p99 in milliseconds."""
        values = self.latencies[kind]
        if len(values) < 2:
            return (values[0] * 1000,) * 3 if values else (0.0, 0.0, 0.0)
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


async def call(
    http: httpx.AsyncClient, tally: Tally, kind: str, method: str, url: str, **kwargs: Any
) -> httpx.Response | None:
    """One request with the phone's retries (exponential backoff); None when it gave up."""
    for attempt in range(ATTEMPTS):
        began = time.perf_counter()
        try:
            response = await http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            tally.errors.append(f"{kind}: {type(exc).__name__}: {exc}"[:160])
        else:
            if response.is_success:
                tally.latencies[kind].append(time.perf_counter() - began)
                return response
            tally.errors.append(f"{kind}: HTTP {response.status_code}: {response.text[:120]}")
        await asyncio.sleep(0.25 * 2**attempt)
    return None


@dataclass
class Phone:
    device: Device
    online: bool  # syncs each record during the day; otherwise only mornings and evenings
    rng: random.Random
    sent: int = 0  # device.events[:sent] were acknowledged
    cursor: str = ""
    mirror: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # id: version, balance
    checksum: dict[str, Any] | None = None  # the server's, from the last page of the last pull
    payments: list[str] = field(default_factory=list)  # unvoided payment ids (for voids)

    def record(self) -> None:
        seq = len(self.device.events) + 1
        now = datetime.now(BOGOTA)
        self.device.events.append(field_event(self.device, seq, now, self.rng, self.payments))

    def apply(self, change: dict[str, Any]) -> None:
        if change["entity"] != "client":
            return
        if change["op"] == "remove":
            self.mirror.pop(change["id"], None)
            return
        version = int(change["version"])
        if version > self.mirror.get(change["id"], (-1, Decimal(0)))[0]:
            self.mirror[change["id"]] = (version, Decimal(change["data"]["balance"]))

    def reset(self) -> None:
        """A new or reset phone: the mirror and cursor go, the outbox stays."""
        self.mirror.clear()
        self.cursor = ""


async def pull(http: httpx.AsyncClient, base: str, phone: Phone, tally: Tally) -> None:
    headers = {"Authorization": f"Bearer {phone.device.token}", "Accept-Encoding": "gzip"}
    kind = "pull, first sync" if not phone.cursor else "pull, incremental"
    while True:
        params = {"cursor": phone.cursor, "limit": PULL_LIMIT}
        response = await call(
            http, tally, kind, "GET", f"{base}/v1/sync/pull", params=params, headers=headers
        )
        if response is None:
            return
        page = response.json()
        for change in page["changes"]:
            phone.apply(change)
        phone.cursor = page["next_cursor"]
        if not page["has_more"]:
            phone.checksum = page["scope_checksum"]
            return


async def push(http: httpx.AsyncClient, base: str, phone: Phone, tally: Tally, kind: str) -> None:
    """Everything not yet acknowledged, in order, in gzip chunks of up to 200."""
    for raw in phone.device.chunks(phone.sent):
        response = await call(
            http,
            tally,
            kind,
            "POST",
            f"{base}/v1/sync/push",
            content=raw,
            headers=phone.device.headers,
        )
        if response is None:
            return  # pending until the next sync
        results = response.json()["results"]
        for result in results:
            held = result["status"] == "held"
            phone.device.states[result["event_id"]] = "held" if held else "acked"
        phone.sent += len(results)
        tally.events += len(results)


@dataclass(frozen=True)
class DayCycle:
    """The compressed day, on the event loop's clock: cycle n starts at start + n * seconds."""

    start: float
    seconds: float
    cycles: int
    day_events: int  # what a phone records per day
    resync_share: float = 0.05  # phones starting over from an empty cursor each later morning

    def morning(self, n: int) -> float:
        return self.start + n * self.seconds

    def day(self, n: int) -> float:
        return self.morning(n) + 0.25 * self.seconds

    def evening(self, n: int) -> float:
        return self.morning(n) + 0.75 * self.seconds


async def _until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - asyncio.get_running_loop().time()))


async def live(
    http: httpx.AsyncClient, base: str, phone: Phone, cycle: DayCycle, tally: Tally
) -> None:
    """One phone through every cycle; it stops by itself after the last evening's pull."""
    loop = asyncio.get_running_loop()
    gap = 0.5 * cycle.seconds / cycle.day_events
    for n in range(cycle.cycles):
        await _until(cycle.morning(n) + phone.rng.uniform(0, 0.15 * cycle.seconds))
        if n and phone.rng.random() < cycle.resync_share:
            phone.reset()
        await pull(http, base, phone, tally)
        await _until(cycle.day(n))
        while loop.time() < cycle.evening(n):
            await asyncio.sleep(phone.rng.expovariate(1 / gap))
            phone.record()
            if phone.online:
                await push(http, base, phone, tally, "push, day (1 event)")
                await pull(http, base, phone, tally)
        await _until(cycle.evening(n) + phone.rng.uniform(0, 0.03 * cycle.seconds))
        await push(http, base, phone, tally, "push, evening backlog")
        await pull(http, base, phone, tally)
