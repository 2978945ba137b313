"""First sync of the reference scenario (300 clients, 1,500 invoices, 5 collectors): bytes on the
wire per client row, gzip, against the target of sync-protocol.md (<= 120 B), and the time of the
pulls next to a reference measured in the same run (the same clients and open invoices selected
and dumped with json.dumps, no paging, no snapshot, no aging).

`python -m benchmarks sync_pull` (SQLite in a temporary folder)."""

from __future__ import annotations

import gzip
import json
import tempfile
import time
import uuid
from datetime import date, datetime
from datetime import time as day_time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks import machine, write_section
from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.db.models import Client, Invoice, User
from server.services import pulling
from server.services.access import Actor
from server.services.demo import seed_demo
from shared.aging import DEFAULT_EDGES
from shared.calendar import business_tz
from shared.scenario import reference_scenario

AS_OF_DAY = date(2026, 11, 23)
TARGET_BYTES = 120
ROUNDS = 5


def _first_sync(session: Session, actor: Actor, now: datetime) -> tuple[bytes, int]:
    """Every page of a first sync as the route sends it; (concatenated JSON, client puts)."""
    out, puts, cursor = b"", 0, None
    while True:
        page = pulling.pull(
            session, actor, cursor, limit=500, now=now, tz=business_tz(), edges=DEFAULT_EDGES
        )
        out += page.model_dump_json(exclude_none=True).encode()
        puts += sum(1 for ch in page.changes if ch.entity == "client")
        cursor = page.next_cursor
        if not page.has_more:
            return out, puts


def _reference(session: Session, user_id: uuid.UUID) -> bytes:
    clients = session.scalars(select(Client).where(Client.collector_id == user_id)).all()
    invoices = session.execute(
        select(Invoice.client_id, Invoice.number, Invoice.due_date, Invoice.balance).where(
            Invoice.client_id.in_([c.id for c in clients]), Invoice.balance != 0
        )
    ).all()
    rows = [
        {"id": str(c.id), "code": c.code, "name": c.name, "balance": str(c.balance)}
        for c in clients
    ]
    rows += [{"c": str(i[0]), "n": i[1], "d": str(i[2]), "b": str(i[3])} for i in invoices]
    return json.dumps(rows).encode()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'pull.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session:
            seed_demo(session, reference_scenario(AS_OF_DAY))
            session.commit()
            collectors = session.scalars(select(User).where(User.role == "collector")).all()
        now = datetime.combine(AS_OF_DAY, day_time(12), business_tz())
        lines, total_gz, total_raw, total_puts = [], 0, 0, 0
        pull_best = ref_best = float("inf")
        for _ in range(ROUNDS):
            pull_s = ref_s = 0.0
            for user in collectors:
                actor = Actor(user.id, user.username, "collector", device_id=uuid.uuid4())
                with factory() as session:
                    start = time.perf_counter()
                    body, puts = _first_sync(session, actor, now)
                    pull_s += time.perf_counter() - start
                with factory() as session:
                    start = time.perf_counter()
                    _reference(session, user.id)
                    ref_s += time.perf_counter() - start
                if len(lines) < len(collectors):
                    zipped = len(gzip.compress(body, compresslevel=6))
                    total_gz, total_raw, total_puts = (
                        total_gz + zipped,
                        total_raw + len(body),
                        total_puts + puts,
                    )
                    lines.append(
                        f"| {user.username} | {puts} | {len(body):,} | {zipped:,} | "
                        f"{zipped / puts:.0f} |"
                    )
            pull_best, ref_best = min(pull_best, pull_s), min(ref_best, ref_s)
        engine.dispose()
    per_client = total_gz / total_puts
    markdown = "\n".join(
        [
            "## First sync (pull) of the reference scenario",
            "",
            f"Machine: {machine()}. SQLite; gzip level 6 of each collector's pages as sent.",
            "",
            "| collector | clients | JSON bytes | gzip bytes | gzip B / client |",
            "|---|---|---|---|---|",
            *lines,
            f"| **all** | {total_puts} | {total_raw:,} | {total_gz:,} | **{per_client:.0f}** |",
            "",
            f"Target: <= {TARGET_BYTES} B per client row gzip "
            f"({'met' if per_client <= TARGET_BYTES else 'NOT met'}).",
            f"Time, best of {ROUNDS}, all five first syncs: {pull_best * 1000:.0f} ms; reference "
            f"(same clients and open invoices, plain select + json.dumps) {ref_best * 1000:.0f} "
            f"ms: {pull_best / ref_best:.1f}x.",
        ]
    )
    print(markdown)  # noqa: T201
    write_section("sync_pull", markdown)


if __name__ == "__main__":
    main()
