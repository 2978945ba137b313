"""Backup and restore of the server database (`recaudo db backup|restore|new-epoch`).

- PostgreSQL: `pg_dump --format=custom` to the file; a restore replays it with `pg_restore` into
  `psql --single-transaction` after dropping and recreating the `public` schema, so the database is
  either the backup's, whole, or untouched (objects created after the backup go too).
- SQLite: the sqlite3 online backup API, both ways (a consistent copy even while the server
  writes; a restore replaces every page of the live file in one step).

A restore is checked before it changes anything (the file must be a backup of this engine), then
migrated to the current schema, then given a new sync epoch (server.services.devices): phones see
it change and push again every event they kept, which puts back what the restore lost
(sync-protocol.md, "server_epoch"). The restored database knows only what was in the backup: a
phone registered after it must register again, and events a phone purged (acknowledged more than
30 days before) cannot come back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.repositories.devices import latest_epoch
from server.services.devices import rotate_server_epoch
from shared.errors import InvalidInput


class BackupError(InvalidInput):
    """The backup or restore could not run; nothing was changed."""


@dataclass(frozen=True)
class Restored:
    epoch: str
    previous_epoch: str | None


def backup(url: str, file: Path) -> None:
    """Write a backup of the database at `url` to `file` (replaced if it exists)."""
    parsed = make_url(url)
    file.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        source = _sqlite_path(parsed)
        if not source.exists():
            raise BackupError(f"no database at {source}", code="database_missing")
        tmp = file.with_name(file.name + ".partial")
        tmp.unlink(missing_ok=True)
        with _sqlite(source) as src, _sqlite(tmp) as dst:
            src.backup(dst)
        tmp.replace(file)  # never a half-written file under the final name
        return
    _postgres_tool(
        "pg_dump", parsed, "--format=custom", "--no-owner", "--no-privileges", f"--file={file}"
    )


def restore(url: str, file: Path, *, now: datetime | None = None) -> Restored:
    """Replace the database at `url` with the backup in `file`, bring it to the current schema,
    and give it a new sync epoch. Stop the server first."""
    parsed = make_url(url)
    if not file.is_file():
        raise BackupError(f"no backup file at {file}", code="backup_missing")
    previous = _epoch_or_none(url)
    if parsed.get_backend_name() == "sqlite":
        _restore_sqlite(_sqlite_path(parsed), file)
    else:
        _restore_postgres(parsed, file)
    migrate.upgrade(url)
    epoch = new_epoch(url, reason=f"restored from backup {file.name}", now=now)
    return Restored(epoch, previous)


def new_epoch(url: str, *, reason: str, now: datetime | None = None) -> str:
    """Give the database a new sync epoch (committed); phones re-push what they kept."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            epoch = rotate_server_epoch(session, now=now or datetime.now(UTC), reason=reason)
            session.commit()
    finally:
        engine.dispose()
    return epoch


def _epoch_or_none(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return latest_epoch(session)
    except Exception:  # an empty or broken database: the restore is what fixes it
        return None
    finally:
        engine.dispose()


# --- SQLite --------------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up", code="database_missing")
    return Path(url.database)


def _sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _restore_sqlite(target: Path, file: Path) -> None:
    try:
        with _sqlite(file) as src:
            ok = src.execute("PRAGMA quick_check").fetchone()
            tables = {
                r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{file} is not a SQLite backup: {exc}", code="backup_invalid") from exc
    if ok != ("ok",) or "alembic_version" not in tables:
        raise BackupError(f"{file} is not a Recaudo SQLite backup", code="backup_invalid")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _sqlite(file) as src, _sqlite(target) as dst:
        src.backup(dst)  # every page of the live file, in one write transaction


# --- PostgreSQL ----------------------------------------------------------------------------------


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL tools; the password goes in the environment (never
    on the command line, where `ps` shows it)."""
    args = [f"--dbname={url.database or 'postgres'}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    for key, value in url.query.items():  # e.g. sslmode=require
        if isinstance(value, str):
            env[f"PG{key.upper()}"] = value
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (postgresql-client)", code="tool_missing")
    return found


def _postgres_tool(name: str, url: URL, *args: str) -> str:
    conn, env = _libpq(url)
    done = subprocess.run(
        [_tool(name), *conn, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{name} failed: {done.stderr.strip()}", code=f"{name}_failed")
    return done.stdout


def _restore_postgres(url: URL, file: Path) -> None:
    listing = subprocess.run(
        [_tool("pg_restore"), "--list", str(file)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0 or "alembic_version" not in listing.stdout:
        raise BackupError(
            f"{file} is not a Recaudo pg_dump (custom format) backup", code="backup_invalid"
        )
    conn, env = _libpq(url)
    with tempfile.TemporaryDirectory(prefix="recaudo-restore-") as tmp:
        # The whole script first: a pg_restore that stopped halfway must not be replayed (psql
        # would commit whatever statements it got).
        script = Path(tmp) / "restore.sql"
        done = subprocess.run(
            [_tool("pg_restore"), "--no-owner", "--no-privileges", f"--file={script}", str(file)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}", code="pg_restore_failed")
        # One transaction: the old schema goes and the backup comes back, or nothing changes.
        replay = subprocess.run(
            [_tool("psql"), *conn, "--no-psqlrc", "--quiet", "--single-transaction",
             "--set=ON_ERROR_STOP=1", "--command=DROP SCHEMA IF EXISTS public CASCADE",
             "--command=CREATE SCHEMA public", f"--file={script}"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if replay.returncode != 0:
        raise BackupError(f"restore failed: {replay.stderr.strip()}", code="psql_failed")
