"""The sync push on the server (sync-protocol.md, "Numbers to beat"), next to references measured
in the same run.

`python -m benchmarks sync_push` (RECAUDO_BENCH_SYNC_COLLECTORS=N collectors with a week of 400
events each, default 10; RECAUDO_BENCH_REPEATS=N interleaved rounds whose best figures are kept,
default 3) seeds a fresh SQLite database (and PostgreSQL when RECAUDO_BENCH_POSTGRES_URL is set)
with clients, invoices and charges, then measures:
- new events/s at chunk 200 through the service (read_push + syncing.push + commit, one
  transaction per chunk), a week's mix: mostly visits and payments, some promises, a few voids;
- the reference: the same inbound_event and ledger rows (entries, allocations), already typed,
  bulk-inserted the way the push writes rows (COPY on PostgreSQL, a driver executemany on
  SQLite), one transaction per chunk, on a twin database, chunk by chunk in turn with the
  service so both see the same moments of a shared machine;
- duplicates/s: the same chunks pushed again (every event answered `duplicate`);
- over real HTTP on loopback against `recaudo serve` (uvicorn, a subprocess): the p95 of a gzip
  push of 200 new events, next to the p95 of a `GET /healthz` round trip on the same connection;
- wire bytes: gzip request bodies per event at chunk 50 and 200, and a week's backlog of 400.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from benchmarks import machine, write_section
from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.db.models import (
    Client,
    InboundEvent,
    Invoice,
    LedgerAllocation,
    LedgerEntry,
    User,
)
from server.repositories import bulk
from server.services import syncing
from server.services.access import Actor
from server.services.devices import register_device
from sync.hashing import inbound_content_hash
from sync.protocol import read_push
from tests.e2e.live import running_server

BOGOTA = timezone(timedelta(hours=-5))
WEEK_START = datetime(2026, 11, 16, 8, 0, tzinfo=BOGOTA)
NOW = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
EVENTS_PER_WEEK = 400
WARM_UP = 2
CLIENTS_PER_COLLECTOR = 60
INVOICES_PER_CLIENT = 3
NOTES = ("", "", "", "cliente atendió", "dejó razón con el vecino", "pide llamar el lunes")
OUTCOMES = ("contacted", "contacted", "not_found", "third_party", "promise", "payment")


@dataclass
class Phone:
    """One collector's device and the week it recorded."""

    user_id: uuid.UUID
    username: str
    device_id: uuid.UUID
    code: str
    token: str
    clients: list[uuid.UUID]
    events: list[dict[str, Any]] = field(default_factory=list)

    def actor(self) -> Actor:
        return Actor(self.user_id, self.username, "collector", self.device_id)

    def body(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "protocol": 1,
            "device_id": str(self.device_id),
            "app_version": "1.0.0",
            "events": events,
        }


def collectors() -> int:
    return int(os.environ.get("RECAUDO_BENCH_SYNC_COLLECTORS", "10"))


def repeats() -> int:
    return int(os.environ.get("RECAUDO_BENCH_REPEATS", "3"))


# --- data -----------------------------------------------------------------------------------


def week_of_events(phone: Phone, rng: random.Random) -> list[dict[str, Any]]:
    """400 events as the phone writes them: a visit per stop, then maybe a payment or a promise;
    about one payment in fifty voided later the same day."""
    events: list[dict[str, Any]] = []
    seq = 0
    moment = WEEK_START
    payments: list[str] = []

    def add(kind: str, client_id: uuid.UUID, payload: dict[str, Any]) -> str:
        nonlocal seq
        seq += 1
        event_id = str(uuid.uuid4())
        events.append({
            "event_id": event_id, "device_seq": seq, "type": kind, "type_version": 1,
            "client_id": str(client_id), "device_time": moment.isoformat(), "payload": payload,
        })  # fmt: skip
        return event_id

    while len(events) < EVENTS_PER_WEEK:
        moment += timedelta(minutes=rng.randint(8, 35))
        if moment.hour >= 18:
            moment = moment.replace(hour=8) + timedelta(days=1)
        client_id = rng.choice(phone.clients)
        outcome = rng.choice(OUTCOMES)
        visit: dict[str, Any] = {
            "outcome": outcome, "lat": round(4.6 + rng.random() / 10, 6),
            "lon": round(-74.1 + rng.random() / 10, 6), "accuracy_m": float(rng.randint(4, 40)),
        }  # fmt: skip
        if note := rng.choice(NOTES):
            visit["notes"] = note
        visit_id = add("visit.recorded", client_id, visit)
        if outcome == "payment" or rng.random() < 0.3:
            amount = f"{rng.randint(5, 400) * 1000}.00"
            receipt = f"{phone.code}-{seq + 1:06d}"
            payload = {"amount": amount, "method": "cash", "receipt_no": receipt}
            payload["visit_event_id"] = visit_id
            payments.append(add("payment.collected", client_id, payload))
            if rng.random() < 0.02:
                reason = {"payment_event_id": payments[-1], "reason": "recibo mal digitado"}
                add("payment.voided", client_id, reason)
        elif outcome == "promise":
            due = (moment + timedelta(days=rng.randint(2, 15))).date().isoformat()
            amount = f"{rng.randint(10, 500) * 1000}.00"
            add("promise.made", client_id, {"amount": amount, "due_date": due})
    return events[:EVENTS_PER_WEEK]


def chunks(events: list[Any], size: int) -> list[list[Any]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def compact(value: Any) -> bytes:
    """The phone's JSON: compact, UTF-8 (mobile/services/exporting.py)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


# --- databases ------------------------------------------------------------------------------


@contextmanager
def fresh_url(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'sync-{uuid.uuid4().hex[:8]}.db'}"
        return
    base = make_url(os.environ["RECAUDO_BENCH_POSTGRES_URL"])
    name = f"recaudo_bench_sync_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def seed(url: str, count: int, rng: random.Random) -> list[Phone]:
    """Collectors, each with a registered device, 60 clients and 3 open invoices per client
    (charged through entries and allocations, so the projections match)."""
    migrate.upgrade(url)
    engine = make_engine(url)
    phones: list[Phone] = []
    today = NOW.date()
    with make_session_factory(engine)() as session:
        users = [
            User(
                username=f"gestor{n}", full_name=f"Gestor {n}", role="collector", password_hash="x"
            )
            for n in range(count)
        ]
        session.add_all(users)
        session.flush()
        clients, invoices, entries, allocations = [], [], [], []
        for user in users:
            actor = Actor(user.id, user.username, "collector")
            reg = register_device(
                session, actor, name="Moto G", install_nonce=uuid.uuid4().hex, now=NOW
            )
            ids = [uuid.uuid4() for _ in range(CLIENTS_PER_COLLECTOR)]
            phones.append(
                Phone(user.id, user.username, reg.device.id, reg.device.code, reg.token, ids)
            )
            for client_id in ids:
                total = Decimal(0)
                for _ in range(INVOICES_PER_CLIENT):
                    amount = Decimal(rng.randint(100, 3000) * 1000)
                    invoice_id, entry_id = uuid.uuid4(), uuid.uuid4()
                    due = today - timedelta(days=rng.randint(-30, 400))
                    invoices.append({
                        "id": invoice_id, "client_id": client_id,
                        "number": f"FE-{invoice_id.hex[:12]}",
                        "issue_date": due - timedelta(days=30), "due_date": due,
                        "amount": amount, "balance": amount,
                    })  # fmt: skip
                    entries.append({
                        "id": entry_id, "client_id": client_id, "kind": "charge", "amount": amount,
                        "effective_date": due - timedelta(days=30), "source": "import",
                        "reason": "Factura", "recorded_at": NOW,
                    })  # fmt: skip
                    allocations.append(
                        {"entry_id": entry_id, "invoice_id": invoice_id, "amount": amount}
                    )
                    total += amount
                clients.append({
                    "id": client_id, "code": f"C-{client_id.hex[:10]}", "name": "Cliente S.A.S.",
                    "collector_id": user.id, "status": "active", "balance": total,
                })  # fmt: skip
        session.execute(sa.insert(Client), clients)
        session.execute(sa.insert(Invoice), invoices)
        session.execute(sa.insert(LedgerEntry), entries)
        session.execute(sa.insert(LedgerAllocation), allocations)
        session.commit()
    engine.dispose()
    for phone in phones:
        phone.events = week_of_events(phone, rng)
    return phones


# --- the service, the reference, duplicates -------------------------------------------------


Work = list[tuple[Phone, list[dict[str, Any]]]]


def push_chunk(factory: sessionmaker[Session], phone: Phone, events: list[dict[str, Any]]) -> float:
    """Seconds to push one chunk through read_push + syncing.push + commit."""
    body = phone.body(events)
    start = time.perf_counter()
    with factory() as session:
        syncing.push(session, phone.actor(), read_push(body), now=NOW, tz=BOGOTA)
        session.commit()
    return time.perf_counter() - start


def reference_rows(
    work: Work,
) -> list[dict[str, list[dict[str, Any]]]]:  # per chunk: rows by table
    """Per chunk, the rows a push writes (inbound events, entries, allocations), typed."""
    out = []
    seq = 10**6
    for phone, events in work:
        inbound: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        allocations: list[dict[str, Any]] = []
        for raw in read_push(phone.body(events)).events:
            e = raw.event
            assert e is not None
            seq += 1
            inbound.append({
                "event_id": e.event_id, "device_id": phone.device_id, "user_id": phone.user_id,
                "type": e.type, "type_version": 1, "device_seq": e.device_seq,
                "client_id": e.client_id, "device_time": e.device_time, "received_at": NOW,
                "content_hash": inbound_content_hash(raw), "raw": raw.raw, "status": "applied",
                "reason": None, "server_seq": seq,
            })  # fmt: skip
            if e.type == "payment.collected":
                entry_id = uuid.uuid4()
                entries.append({
                    "id": entry_id, "client_id": e.client_id, "kind": "payment",
                    "amount": -e.payload.amount, "effective_date": e.device_time.date(),
                    "recorded_at": NOW, "source": "sync", "event_id": e.event_id,
                    "reason": f"Recibo {e.payload.receipt_no}", "created_by": phone.user_id,
                })  # fmt: skip
                allocations.append(
                    {"entry_id": entry_id, "invoice_id": None, "amount": -e.payload.amount}
                )
        out.append({"inbound": inbound, "entries": entries, "allocations": allocations})
    return out


def reference_chunk(factory: sessionmaker[Session], rows: dict[str, list[dict[str, Any]]]) -> float:
    """The floor for one chunk: its rows written the way the push writes rows (COPY on
    PostgreSQL, a driver executemany on SQLite: server/repositories/bulk.py), committed."""
    start = time.perf_counter()
    with factory() as session:
        bulk.insert_rows(session, InboundEvent, rows["inbound"])
        bulk.insert_rows(session, LedgerEntry, rows["entries"])
        bulk.insert_rows(session, LedgerAllocation, rows["allocations"])
        session.commit()
    return time.perf_counter() - start


# --- over HTTP ------------------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[94] if len(samples) > 1 else samples[0]


def over_http(url: str, folder: Path, work: Work) -> tuple[list[float], list[float]]:
    """Milliseconds per gzip push of 200 new events, and per /healthz, interleaved."""
    pushes: list[float] = []
    trivial: list[float] = []
    bodies = [(phone, gzip.compress(compact(phone.body(events)))) for phone, events in work]
    with (
        running_server(folder, ("RECAUDO_DATABASE_URL", url)) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        for _ in range(5):
            http.get("/healthz")
        for phone, wire in bodies:
            start = time.perf_counter()
            r = http.get("/healthz")
            trivial.append((time.perf_counter() - start) * 1000)
            r.raise_for_status()
            headers = {
                "Authorization": f"Bearer {phone.token}",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            }
            start = time.perf_counter()
            r = http.post("/v1/sync/push", content=wire, headers=headers)
            pushes.append((time.perf_counter() - start) * 1000)
            r.raise_for_status()
            assert all(x["status"] in ("applied", "held") for x in r.json()["results"])
    # The first pushes warm the server (statement caches, first connections): not counted.
    return pushes[WARM_UP:], trivial[WARM_UP:]


# --- rounds ---------------------------------------------------------------------------------


def one_round(kind: str, folder: Path, seed_no: int) -> dict[str, Any]:
    """Service and reference on twin databases (same seed), chunk by chunk in turn so a busy
    moment of a shared machine lands on both; then duplicates; then HTTP on a third database."""
    count = collectors()
    figures: dict[str, Any] = {"reference": 0.0, "service": 0.0, "duplicates": 0.0}
    with fresh_url(kind, folder) as ref_url, fresh_url(kind, folder) as url:
        ref_work = work_of(seed(ref_url, count, random.Random(seed_no)))
        work = work_of(seed(url, count, random.Random(seed_no)))
        figures["events"] = sum(len(c) for _, c in work)
        ref_engine, engine = make_engine(ref_url), make_engine(url)
        ref_factory, factory = make_session_factory(ref_engine), make_session_factory(engine)
        for rows, (phone, events) in zip(reference_rows(ref_work), work, strict=True):
            figures["reference"] += reference_chunk(ref_factory, rows)
            figures["service"] += push_chunk(factory, phone, events)
        for phone, events in work:
            figures["duplicates"] += push_chunk(factory, phone, events)
        ref_engine.dispose()
        engine.dispose()
    with fresh_url(kind, folder) as url:  # twice the collectors: 40 pushes for a p95
        work = work_of(seed(url, 2 * count, random.Random(seed_no + 1)))
        figures["push_ms"], figures["healthz_ms"] = over_http(url, folder, work)
    return figures


def work_of(phones: list[Phone]) -> Work:
    return [(p, c) for p in phones for c in chunks(p.events, 200)]


def best(rounds: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {"events": rounds[0]["events"]}
    for key in ("reference", "service", "duplicates"):
        out[key] = min(r[key] for r in rounds)
    out["push_p95"] = min(p95(r["push_ms"]) for r in rounds)
    out["push_median"] = min(statistics.median(r["push_ms"]) for r in rounds)
    out["healthz_p95"] = min(p95(r["healthz_ms"]) for r in rounds)
    out["samples"] = len(rounds[0]["push_ms"])
    return out


def wire_sizes() -> dict[str, float]:
    rng = random.Random(11)
    phone = Phone(
        uuid.uuid4(), "gestor", uuid.uuid4(), "K7Q", "t", [uuid.uuid4() for _ in range(60)]
    )
    events = week_of_events(phone, rng)
    out: dict[str, float] = {}
    for size in (50, 200):
        wire = [len(gzip.compress(compact(phone.body(c)))) for c in chunks(events, size)]
        out[f"per_event_{size}"] = sum(wire) / len(events)
        out[f"week_{size}"] = sum(wire)
    out["plain_per_event"] = len(compact(phone.body(events))) / len(events)
    return out


def main() -> None:
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("RECAUDO_BENCH_POSTGRES_URL") else [])
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="recaudo-bench-sync-") as tmp:
        rounds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
        for round_no in range(repeats()):
            for kind in kinds:
                rounds[kind].append(one_round(kind, Path(tmp), 100 + round_no))
        figures = {kind: best(r) for kind, r in rounds.items()}
    sizes = wire_sizes()
    targets = {"sqlite": (15_000, 100), "postgresql": (5_000, 250)}
    count = collectors()
    lines = [
        "## Sync push on the server (`benchmarks/sync_push.py`)",
        "",
        f"Machine: {machine()}.",
        "",
        f"{count} collectors × a week of {EVENTS_PER_WEEK} events (≈60% visits, 30% payments, "
        "10% promises, a few voids) over 60 clients each with 3 open invoices, pushed in chunks "
        "of 200. Service = `read_push` + `syncing.push` + commit, one transaction per chunk. "
        "Reference = the same inbound_event, ledger_entry and ledger_allocation rows, already "
        "typed, bulk-inserted the way the push writes rows (COPY on PostgreSQL, a driver "
        "executemany on SQLite), one transaction per chunk, in the same run. "
        "Service and reference run chunk by chunk in turn on twin databases. "
        "Duplicates = the same chunks pushed again. HTTP = `recaudo serve` (uvicorn) as a "
        "subprocess on loopback, gzip bodies of 200 new events over one keep-alive connection "
        f"({2 * count} collectors' weeks, the first {WARM_UP} pushes not counted), "
        f"interleaved with `GET /healthz`. Best of {repeats()} interleaved rounds.",
        "",
        "| database | new events/s (service) | reference events/s (their rows bulk-inserted) | "
        "service ÷ reference | "
        "duplicates/s | push of 200, p95 (median) | /healthz p95 | target events/s, p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, f in figures.items():
        n = f["events"]
        rate, ref = n / f["service"], n / f["reference"]
        lines.append(
            f"| {kind} | **{rate:,.0f}** | {ref:,.0f} | **{f['service'] / f['reference']:.2f}×** "
            f"| {n / f['duplicates']:,.0f} | **{f['push_p95']:.0f} ms** "
            f"({f['push_median']:.0f} ms, {f['samples']:.0f} pushes) "
            f"| {f['healthz_p95']:.1f} ms | ≥ {targets[kind][0]:,}, ≤ {targets[kind][1]} ms |"
        )
    lines += [
        "",
        f"Wire (gzip request bodies, same mix): **{sizes['per_event_50']:.0f} B/event** at "
        f"chunk 50, **{sizes['per_event_200']:.0f} B/event** at chunk 200 (target ≤ 120; "
        f"{sizes['plain_per_event']:.0f} B/event uncompressed); a week's backlog of "
        f"{EVENTS_PER_WEEK} events: **{sizes['week_200'] / 1000:.1f} KB** in chunks of 200, "
        f"{sizes['week_50'] / 1000:.1f} KB in chunks of 50 (target ≤ 50 KB).",
    ]
    section = "\n".join(lines)
    print(section)  # noqa: T201
    write_section("sync_push", section)


if __name__ == "__main__":
    main()
