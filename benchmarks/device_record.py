"""Recording a payment on the phone (seq + receipt + outbox row, one transaction, WAL with
synchronous=FULL), next to a bare single-row INSERT + COMMIT with the same pragmas.

Both run on temp files in the same run, interleaved, so the ratio says what the service adds over
the disk's own commit cost (each commit is an fsync under FULL)."""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from benchmarks import machine, write_section
from mobile.data.migrate import open_database
from mobile.services.device import register_device
from mobile.services.recording import record_payment

CLIENT = "5f0e3c1a-1111-4b7e-9a57-2f8a3f0d6a11"
NOW = datetime(2026, 11, 23, 10, 21, 7, tzinfo=timezone(timedelta(hours=-5)))


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[94]


def filesystem(path: Path) -> str:
    """The filesystem type holding `path` (tmpfs would make fsync free and the figure moot)."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    best = max((m for m in mounts if str(path.resolve()).startswith(m[1])), key=lambda m: len(m[1]))
    return best[2]


def reference_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
    return conn


def main() -> None:
    count = int(os.environ.get("RECAUDO_BENCH_PAYMENTS", "500"))
    record_ms: list[float] = []
    bare_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="recaudo-bench-phone-") as tmp:
        fs = filesystem(Path(tmp))
        db = open_database(Path(tmp) / "phone.db")
        register_device(
            db, device_id="0b9c7c5e-5d1f-4b7e-9a57-2f8a3f0d6a11", device_code="K7Q",
            device_token="t", server_url="http://127.0.0.1", server_epoch="e",
        )  # fmt: skip
        ref = reference_connection(Path(tmp) / "bare.db")
        payload = '{"amount":"250000.00","method":"cash","receipt_no":"K7Q-000412"}'
        for _ in range(20):  # warm-up: first connections, statement caches, file growth
            record_payment(db, client_id=CLIENT, amount=Decimal(1), method="cash", now=NOW)
            ref.execute("BEGIN IMMEDIATE")
            ref.execute("INSERT INTO t (payload) VALUES (?)", (payload,))
            ref.execute("COMMIT")
        for n in range(count):
            start = time.perf_counter()
            record_payment(db, client_id=CLIENT, amount=Decimal(1000 + n), method="cash", now=NOW)
            record_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            ref.execute("BEGIN IMMEDIATE")
            ref.execute("INSERT INTO t (payload) VALUES (?)", (payload,))
            ref.execute("COMMIT")
            bare_ms.append((time.perf_counter() - start) * 1000)
        ref.close()
        db.kw["bind"].dispose()

    rec, bare = p95(record_ms), p95(bare_ms)
    lines = [
        "## Recording a payment on the phone (`benchmarks/device_record.py`)",
        "",
        f"Machine: {machine()}.",
        "",
        f"{count} payments recorded one by one with `mobile.services.recording.record_payment` "
        "(one local transaction: next device_seq, receipt number, outbox row with the canonical "
        f"JSON payload) on a temp-file SQLite database ({fs}) in WAL mode with "
        "`synchronous=FULL`, "
        "interleaved with a reference measured in the same run: a bare single-row "
        "`INSERT` + `COMMIT` through sqlite3 with the same pragmas. Target: p95 ≤ 30 ms.",
        "",
        "| what | median | p95 | max |",
        "|---|---|---|---|",
        f"| record_payment | {statistics.median(record_ms):.2f} ms | **{rec:.2f} ms** "
        f"| {max(record_ms):.2f} ms |",
        f"| reference: bare INSERT + COMMIT | {statistics.median(bare_ms):.2f} ms "
        f"| {bare:.2f} ms | {max(bare_ms):.2f} ms |",
        "",
        f"p95 ratio record ÷ reference: **{rec / bare:.1f}×**. A phone's flash commits slower "
        "than this disk; the ratio is the figure that carries over.",
    ]
    section = "\n".join(lines)
    print(section)  # noqa: T201
    write_section("device_record", section)


if __name__ == "__main__":
    main()
