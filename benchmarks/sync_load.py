"""200 devices pushing a week of field work at once against `recaudo serve` on PostgreSQL.

Each device is registered through the API (`POST /v1/devices`) and pushes about 400 events
(visits, promises, payments, a few voids; a collector's week) in gzip chunks of up to 200, all
devices concurrently (asyncio + httpx.AsyncClient). Measured: throughput (events/s over the
whole run), push latency p50/p95, errors (must be 0), wire bytes per event; then the server-side
invariants (exactly once, no phantom money, conservation, projections) and each collector's first
sync (pull from an empty cursor) in gzip bytes per client row.

Reference measured in the same run on the same server: the same kind of week pushed by devices
one request at a time (no concurrency), so the ratio says what 200 concurrent devices cost.
RECAUDO_BENCH_POSTGRES_URL names the PostgreSQL server (a fresh database of this bench's own is
created and dropped); RECAUDO_BENCH_LOAD_DEVICES / _EVENTS change the size."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from benchmarks import machine, write_section
from tests.chaos import invariants
from tests.chaos.scenario import Collector, fresh_database, seed
from tests.chaos.server import SIGNING_KEY
from tests.e2e.live import free_port

BOGOTA = timezone(timedelta(hours=-5))
CHUNK = 200
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/recaudo_bench"


@dataclass
class Device:
    device_id: str
    code: str
    token: str
    clients: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }

    def chunks(self, first: int = 0) -> list[bytes]:
        """The gzip push bodies of `events[first:]`, up to CHUNK events each."""
        out = []
        for start in range(first, len(self.events), CHUNK):
            body = {
                "protocol": 1,
                "device_id": self.device_id,
                "app_version": "1.0.0",
                "events": self.events[start : start + CHUNK],
            }
            out.append(gzip.compress(json.dumps(body, separators=(",", ":")).encode(), 6))
        return out


def week_of_events(device: Device, count: int, rng: random.Random) -> None:
    """A collector's week: Monday to Saturday, visits, promises, payments and a few voids."""
    monday = (datetime.now(BOGOTA) - timedelta(days=6)).replace(hour=8, minute=0, second=0)
    payments: list[str] = []
    for seq in range(1, count + 1):
        at = monday + timedelta(days=(seq - 1) * 6 // count, minutes=rng.randrange(0, 600))
        device.events.append(field_event(device, seq, at, rng, payments))


def field_event(
    device: Device, seq: int, at: datetime, rng: random.Random, payments: list[str]
) -> dict[str, Any]:
    """One wire event of a collector's day (30% payments, 15% promises, visits, 2% voids of one
    of `payments`, the device's unvoided payment ids, which it updates)."""
    client = rng.choice(device.clients)
    draw = rng.random()
    payload: dict[str, Any]
    if draw < 0.02 and payments:
        kind, payload = (
            "payment.voided",
            {
                "payment_event_id": payments.pop(rng.randrange(len(payments))),
                "reason": "recibo mal digitado",
            },
        )
    elif draw < 0.32:
        kind = "payment.collected"
        payload = {
            "amount": f"{rng.randrange(5_000, 400_000, 100)}.00",
            "method": rng.choice(["cash", "cash", "transfer"]),
            "receipt_no": f"{device.code}-{seq:06d}",
        }
    elif draw < 0.47:
        due = (at + timedelta(days=rng.randint(1, 15))).date()
        kind, payload = (
            "promise.made",
            {
                "amount": f"{rng.randrange(10_000, 300_000, 1_000)}.00",
                "due_date": due.isoformat(),
            },
        )
    else:
        kind, payload = (
            "visit.recorded",
            {
                "outcome": rng.choice(["contacted", "not_home", "refused"]),
                "lat": round(4.6 + rng.random() / 10, 6),
                "lon": round(-74.1 + rng.random() / 10, 6),
                "accuracy_m": 12.0,
            },
        )
    event_id = str(uuid.uuid4())
    if kind == "payment.collected":
        payments.append(event_id)
    return {
        "event_id": event_id,
        "device_seq": seq,
        "type": kind,
        "type_version": 1,
        "client_id": client,
        "device_time": at.isoformat(timespec="seconds"),
        "payload": payload,
    }


async def register(http: httpx.AsyncClient, base: str, collector: Collector) -> Device:
    response = await http.post(
        f"{base}/v1/devices",
        json={"name": "Moto G", "install_nonce": f"install-{uuid.uuid4().hex}"},
        headers=collector.bearer,
    )
    response.raise_for_status()
    body = response.json()
    return Device(body["device_id"], body["device_code"], body["device_token"], collector.clients)


@dataclass
class Run:
    events: int = 0
    wire_bytes: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def pct(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


async def push_device(http: httpx.AsyncClient, base: str, device: Device, run: Run) -> None:
    """Push the device's chunks in order; a failed push is counted as an error and retried
    after a pause (Retry-After when given), as the phone does."""
    for raw in device.chunks():
        for attempt in range(10):
            began = time.perf_counter()
            try:
                response = await http.post(
                    f"{base}/v1/sync/push", content=raw, headers=device.headers
                )
            except httpx.HTTPError as exc:
                run.errors.append(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            if response.status_code == 200:
                run.latencies.append(time.perf_counter() - began)
                break
            run.errors.append(f"HTTP {response.status_code}: {response.text[:120]}")
            pause = response.headers.get("retry-after", "")
            await asyncio.sleep(float(pause) if pause.isdigit() else 0.2 * (attempt + 1))
        else:
            return  # gave up: its events stay pending and the invariants say so
        run.wire_bytes += len(raw)
        for result in response.json()["results"]:
            run.events += 1
            device.states[result["event_id"]] = "held" if result["status"] == "held" else "acked"


async def first_sync_bytes(http: httpx.AsyncClient, base: str, device: Device) -> tuple[int, int]:
    """Gzip bytes on the wire and client rows of a first sync (pull from an empty cursor)."""
    cursor, wire, rows = "", 0, 0
    headers = {"Authorization": f"Bearer {device.token}", "Accept-Encoding": "gzip"}
    while True:
        response = await http.get(
            f"{base}/v1/sync/pull", params={"cursor": cursor, "limit": 1000}, headers=headers
        )
        response.raise_for_status()
        wire += response.num_bytes_downloaded
        page = response.json()
        rows += sum(1 for c in page["changes"] if c["entity"] == "client" and c["op"] == "put")
        if not page["has_more"]:
            return wire, rows
        cursor = page["next_cursor"]


def server_exceptions(log: Path) -> Counter[str]:
    """The exception behind each 5xx answer: the last `sqlalchemy...` line of each traceback
    uvicorn logs after "Exception in ASGI application" (the app's own "unexpected error" log
    of the same exception is skipped)."""
    pattern = re.compile(r"^(sqlalchemy[\w.]+): (.*)$")
    found: Counter[str] = Counter()
    counting, last = False, ""
    for line in [*log.read_text(errors="replace").splitlines(), "unexpected error"]:
        asgi = "Exception in ASGI application" in line
        if asgi or line.startswith("unexpected error"):
            if counting and last:
                found[last] += 1
            counting, last = asgi, ""
        elif match := pattern.match(line):
            last = f"{match.group(1)}: {match.group(2)[:80]}"
    return found


def start_server(
    url: str, port: int, folder: Path, command: list[str] | None = None
) -> subprocess.Popen[bytes]:
    """`recaudo serve` (or `command`) on `url`, logging to folder/server.log; returns once
    /healthz answers."""
    env = os.environ | {
        "RECAUDO_DATABASE_URL": url,
        "RECAUDO_DATA_DIR": str(folder),
        "RECAUDO_SIGNING_KEY": SIGNING_KEY,
    }
    recaudo = Path(sys.executable).with_name("recaudo")
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        command or [str(recaudo), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
            return proc
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "server.log").read_text()) from None
            time.sleep(0.2)


async def bench(
    base: str, collectors: list[Collector], devices_n: int, events_n: int
) -> dict[str, Any]:
    rng = random.Random(11)
    limits = httpx.Limits(max_connections=devices_n + 10, max_keepalive_connections=devices_n + 10)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        devices = [
            await register(http, base, collectors[n % len(collectors)]) for n in range(devices_n)
        ]
        reference = [await register(http, base, collectors[n % len(collectors)]) for n in range(4)]
        for device in [*devices, *reference]:
            week_of_events(device, events_n, rng)
        # A new phone's first sync on the portfolio as imported (one per collector: its devices
        # share a scope), and again after the week (clients then carry visits and promises).
        firsts = range(min(len(collectors), devices_n))
        first_before = [await first_sync_bytes(http, base, devices[n]) for n in firsts]
        # Reference: the same kind of week, one request at a time.
        ref = Run()
        began = time.perf_counter()
        for device in reference:
            await push_device(http, base, device, ref)
        ref.seconds = time.perf_counter() - began
        # The load: every device at once.
        load = Run()
        began = time.perf_counter()
        await asyncio.gather(*(push_device(http, base, d, load) for d in devices))
        load.seconds = time.perf_counter() - began
        first_after = [await first_sync_bytes(http, base, devices[n]) for n in firsts]
    sent: dict[str, invariants.PhoneEvent] = {}
    for device in [*devices, *reference]:
        sent |= invariants.expected_events(device.device_id, device.events, device.states)
    return {"load": load, "ref": ref, "before": first_before, "after": first_after, "sent": sent}


def main() -> None:
    devices_n = int(os.environ.get("RECAUDO_BENCH_LOAD_DEVICES", "200"))
    events_n = int(os.environ.get("RECAUDO_BENCH_LOAD_EVENTS", "400"))
    pg = os.environ.get("RECAUDO_BENCH_POSTGRES_URL", DEFAULT_PG)
    name = f"recaudo_bench_load_{uuid.uuid4().hex[:8]}"
    with (
        tempfile.TemporaryDirectory(prefix="recaudo-bench-load-") as tmp,
        fresh_database("postgres", Path(tmp), pg, name) as url,
    ):
        portfolio = seed(url, collectors=20, clients_each=25)
        port = free_port()
        server = start_server(url, port, Path(tmp))
        try:
            out = asyncio.run(
                bench(f"http://127.0.0.1:{port}", portfolio.collectors, devices_n, events_n)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        violations = invariants.check_server(url, out["sent"])
        causes = server_exceptions(Path(tmp) / "server.log")
    load, ref = out["load"], out["ref"]
    wire, rows = (sum(x) for x in zip(*out["before"], strict=True))
    wire_after, rows_after = (sum(x) for x in zip(*out["after"], strict=True))
    lines = [
        "## 200 devices pushing a week at once (`benchmarks/sync_load.py`)",
        "",
        f"Machine: {machine()}. PostgreSQL, `recaudo serve` (one uvicorn process).",
        "",
        f"{devices_n} devices registered through the API, {events_n} events each (a week: "
        "visits, promises, payments, a few voids) in gzip chunks of up to 200, pushed "
        "concurrently with httpx.AsyncClient. Reference in the same run: 4 more devices' weeks "
        "pushed one request at a time.",
        "",
        "| run | events | seconds | events/s | push p50 | push p95 | errors (retried) |",
        "|---|---|---|---|---|---|---|",
        f"| {devices_n} devices at once | {load.events} | {load.seconds:.1f} "
        f"| **{load.rate:,.0f}** | {load.pct(50):.0f} ms | {load.pct(95):.0f} ms "
        f"| **{len(load.errors)}** |",
        f"| reference: one request at a time | {ref.events} | {ref.seconds:.1f} | {ref.rate:,.0f} "
        f"| {ref.pct(50):.0f} ms | {ref.pct(95):.0f} ms | {len(ref.errors)} |",
        "",
        f"Throughput under load ÷ one at a time: **{load.rate / ref.rate:.2f}×**. "
        f"Wire: {load.wire_bytes / max(load.events, 1):.0f} B per event gzip "
        f"({load.wire_bytes / max(devices_n, 1) / 1024:.1f} KB per device-week; targets ≤ 120 B, "
        "≤ 50 KB).",
        f"First sync of a new phone, one per collector ({len(out['before'])}), on the portfolio "
        f"as imported: {rows} client rows in {wire / 1024:.1f} KB gzip, "
        f"**{wire / max(rows, 1):.0f} B per client row** (target ≤ 120 B); after the week "
        f"(clients with their visits and promises, held events' statuses): "
        f"{wire_after / max(rows_after, 1):.0f} B per client row.",
        f"Invariants after the run (exactly once, no phantom money, conservation, projections): "
        f"**{len(violations)} violations**.",
        *(f"- VIOLATION {v}" for v in violations[:10]),
        *(f"- {n} × {e}" for e, n in Counter(load.errors + ref.errors).most_common(5)),
        *(f"- server log: {n} × {e}" for e, n in causes.most_common(5)),
    ]
    section = "\n".join(lines)
    print(section)  # noqa: T201
    write_section("sync_load", section)


if __name__ == "__main__":
    main()
