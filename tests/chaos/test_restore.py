"""The server restored from an older backup (issue 8, "Faults"), on SQLite and PostgreSQL.

Phones (the real phone code) sync with a real uvicorn server; `recaudo db backup` is taken; more
field work (payments among it) is synced, which the restore will lose, and more is recorded but
not sent; the server is stopped, `recaudo db restore` puts the backup back and gives the database
a new epoch, the server starts again. Then the phones sync: each sees the new epoch, pushes again
every event it kept (duplicates for what the backup has, applied for what it lost), and at the
end every payment ever recorded on a phone is in the ledger exactly once, every invariant holds,
every mirror converges, and reconciliation by receipt number (tests/chaos/reconcile.py) finds no
gap, where right after the restore it found exactly the lost events.

The CLI's own edges (a bad file changes nothing, `new-epoch` alone) are below it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnElement, func, select
from typer.testing import CliRunner

from mobile.services.syncing import SyncReport
from server.cli import app as cli
from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.db.models import AuditLog, InboundEvent
from server.repositories.devices import EPOCH_ACTION, latest_epoch
from tests import pg
from tests.chaos import invariants, reconcile
from tests.chaos.crashloop import Config, _phones
from tests.chaos.phones import PushStats, SimPhone
from tests.chaos.scenario import fresh_database, seed
from tests.chaos.server import ServerProcess, Zygote
from tests.e2e.live import free_port
from tests.pg import require_postgres, worker_database_name

pytestmark = [pytest.mark.anyio]

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    z = Zygote(tmp_path_factory.mktemp("zygote") / "server.log")
    yield z
    z.close()


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    engine: str = request.param
    base, name = "", ""
    if engine == "postgres":
        base = require_postgres()
        name = worker_database_name(base, "restore")
    with fresh_database(engine, tmp_path, base, name) as url:
        yield url


def recaudo(url: str, *args: str) -> str:
    """`recaudo ARGS` against the database at `url`; its output (exit status 0 required)."""
    result = CliRunner().invoke(cli, list(args), env={"RECAUDO_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return result.output


def _count(url: str, *where: ColumnElement[bool]) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(InboundEvent).where(*where)) or 0
    finally:
        engine.dispose()


def _epoch(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return latest_epoch(session)
    finally:
        engine.dispose()


async def _sync_all(phones: list[SimPhone], base: str, stats: PushStats) -> list[SyncReport]:
    """One sync cycle per phone; every cycle must succeed and leave nothing pending."""
    reports = []
    for phone in phones:
        report = await asyncio.to_thread(phone.sync, base, stats, 30.0)
        assert report.ok and report.pending_left == 0, report
        reports.append(report)
    return reports


def _payments(phones: list[SimPhone]) -> int:
    return sum(t == "payment.collected" for p in phones for t in p.recorded.values())


@pytest.mark.e2e
@pytest.mark.parametrize("database", ENGINES, indirect=True)
async def test_restore_from_an_older_backup_loses_nothing(
    database: str, zygote: Zygote, tmp_path: Path
) -> None:
    url = database
    cfg = Config(engine="restore", kills=0, clients_each=4)
    portfolio = seed(url, collectors=cfg.collectors, clients_each=cfg.clients_each)
    server = ServerProcess(zygote, url, free_port(), tmp_path)
    stats = PushStats()
    try:
        await server.start()
        base = f"http://127.0.0.1:{server.port}"
        phones = await _phones(cfg, portfolio, base, tmp_path)
        for phone in phones:
            phone.record_some(12)
        assert not any(r.epoch_changed for r in await _sync_all(phones, base, stats))
        old_epoch = _epoch(url)
        recaudo(url, "db", "backup", str(tmp_path / "backup.bin"))
        in_backup, payments_in_backup = _count(url), _payments(phones)
        paid_in_backup = _count(url, InboundEvent.type == "payment.collected")

        for phone in phones:  # synced after the backup: the restore loses these
            phone.record_some(12)
        await _sync_all(phones, base, stats)
        lost = _count(url) - in_backup
        lost_payments = _count(url, InboundEvent.type == "payment.collected") - paid_in_backup
        assert lost > 0 and _payments(phones) > payments_in_backup
        recorded = sum(len(p.recorded) for p in phones)
        for phone in phones:  # recorded while the server was being restored: still pending
            phone.record_some(4)
        unsent = sum(len(p.recorded) for p in phones) - recorded

        server.kill()
        out = recaudo(url, "db", "restore", "--yes", str(tmp_path / "backup.bin"))
        new_epoch = _epoch(url)
        assert new_epoch not in (None, old_epoch) and new_epoch in out
        assert _count(url) == in_backup
        before = reconcile.gaps(url, phones)  # the check sees the hole the restore left
        assert sum(len(g.missing_on_server) for g in before.values()) == lost + unsent

        await server.start()
        after = await _sync_all(phones, base, stats)
        assert all(r.epoch_changed for r in after)
        requeued = sum(r.requeued for r in after)
        assert requeued == in_backup + lost  # every event the phones kept went out again
        await _sync_all(phones, base, stats)  # every mirror after every phone's last push
        server.kill()
        assert reconcile.gaps(url, phones) == {}
        violations = await asyncio.to_thread(invariants.check, url, phones)
        assert violations == []  # exactly once per payment, conservation, convergence, ...
        assert stats.unexpected == []
        print(
            f"\nrestore ({url.split(':')[0]}): backup held {in_backup} events; {lost} synced after "
            f"it ({lost_payments} payments) and {unsent} unsent were missing after the restore; "
            f"the new epoch re-pushed {requeued} kept events; reconciliation: no gap; "
            f"invariants: {len(violations)} violations"
        )
        for phone in phones:
            phone.close()
    finally:
        server.kill()


@pytest.mark.parametrize("database", ENGINES, indirect=True)
def test_a_file_that_is_not_a_backup_changes_nothing(database: str, tmp_path: Path) -> None:
    url = database
    recaudo(url, "db", "new-epoch")
    epoch = _epoch(url)
    bad = tmp_path / "not-a-backup.bin"
    bad.write_bytes(b"PGDMP but not really" + bytes(200))
    for file in (bad, tmp_path / "missing.bin"):
        result = CliRunner().invoke(
            cli, ["db", "restore", "--yes", str(file)], env={"RECAUDO_DATABASE_URL": url}
        )
        assert result.exit_code == 1
        assert "backup_invalid" in result.output or "backup_missing" in result.output
    assert _epoch(url) == epoch


@pytest.mark.parametrize("database", ENGINES, indirect=True)
def test_restore_asks_first(database: str, tmp_path: Path) -> None:
    url = database
    recaudo(url, "db", "backup", str(tmp_path / "b.bin"))
    recaudo(url, "db", "new-epoch")
    epoch = _epoch(url)
    result = CliRunner().invoke(
        cli, ["db", "restore", str(tmp_path / "b.bin")], input="n\n",
        env={"RECAUDO_DATABASE_URL": url},
    )  # fmt: skip
    assert result.exit_code == 1
    assert _epoch(url) == epoch


@pytest.mark.parametrize("database", ENGINES, indirect=True)
def test_new_epoch_alone_is_audited(database: str) -> None:
    url = database
    first = _epoch(url)
    out = recaudo(url, "db", "new-epoch", "--reason", "rebuilt the ledger")
    second = _epoch(url)
    assert second is not None and second != first and second in out
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            row = session.scalars(select(AuditLog).where(AuditLog.entity_id == second)).one()
    finally:
        engine.dispose()
    assert (row.action, row.details) == (EPOCH_ACTION, {"reason": "rebuilt the ledger"})


def test_sqlite_backup_is_a_consistent_database(tmp_path: Path) -> None:
    """The backup API's copy of a WAL database opens on its own and passes integrity_check."""
    with fresh_database("sqlite", tmp_path, "", "") as url:
        seed(url, collectors=1, clients_each=2)
        recaudo(url, "db", "backup", str(tmp_path / "copy.db"))
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM client").fetchone()[0] == 3


@pytest.mark.parametrize("engine", ENGINES)
def test_a_backup_of_an_older_schema_is_restored_and_migrated(engine: str, tmp_path: Path) -> None:
    """A backup taken before the last migration: the restore drops what came after it (the
    newer tables too), then migrates the restored database to the current schema."""
    place: contextlib.AbstractContextManager[str]
    if engine == "postgres":
        base = require_postgres()
        place = pg.fresh_database(base, worker_database_name(base, "restore_old"))
    else:
        place = contextlib.nullcontext(f"sqlite:///{tmp_path / 'old.db'}")
    head = ScriptDirectory.from_config(migrate.alembic_config("")).get_current_head()
    with place as url:
        migrate.upgrade(url, "0001")
        recaudo(url, "db", "new-epoch", "--reason", "at 0001")
        old = _epoch(url)
        recaudo(url, "db", "backup", str(tmp_path / "old.bin"))
        migrate.upgrade(url)
        recaudo(url, "db", "new-epoch", "--reason", "at head")
        recaudo(url, "db", "restore", "--yes", str(tmp_path / "old.bin"))
        engine_ = make_engine(url)
        try:
            with engine_.connect() as conn:
                version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                reasons = [
                    row[0]["reason"]
                    for row in conn.execute(
                        select(AuditLog.details)
                        .where(AuditLog.action == EPOCH_ACTION)
                        .order_by(AuditLog.id)
                    )
                ]
        finally:
            engine_.dispose()
        assert version == head
        assert reasons == ["at 0001", "restored from backup old.bin"]  # "at head" went with it
        assert _epoch(url) != old
