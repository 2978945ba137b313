"""A revoked device (lost or stolen phone): stop syncing, and wipe what the app keeps once
nothing on it is left unsent.

The mark "revoked" is a file beside the database (`recaudo-phone.db.revoked`), so it survives
closing the app and stops every later sync before it touches the network. The wipe deletes the
SQLite database with its WAL, SHM and journal files, the sync lock and the preferences file; the
database holds everything else the app keeps (identity and device token in `sync_state`, the
client mirror, the outbox, the route plans). Receipts and their PDFs are built in memory and
handed to the share sheet, never cached on disk.

A wipe happens only when no outbox row is pending, held or in conflict, or right after the
pending events were exported to a file (held and conflict rows are already on the server); the
export file itself is kept, it is the only copy of those events.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.migrate import upgrade
from mobile.data.models import OutboxRow
from mobile.services.exporting import export_pending
from mobile.services.outbox import pending_rows

REVOKED_CODE = "device_revoked"  # the server's error code (server/services/auth.py)
PREFS_FILE = "preferences.json"  # mobile.adapters.prefs.FILE (services do not import adapters)
_KEEPING = ("pending", "held", "conflict")
_DB_SUFFIXES = ("", "-wal", "-shm", "-journal", ".sync-lock", ".revoked")


def database_path(db: sessionmaker[Session]) -> Path:
    name = db.kw["bind"].url.database
    if not name or name == ":memory:":
        raise ValueError("an in-memory phone database has no files to wipe")
    return Path(name).resolve()


def _marker(db: sessionmaker[Session]) -> Path:
    path = database_path(db)
    return path.with_name(path.name + ".revoked")


def mark_revoked(db: sessionmaker[Session]) -> None:
    """Remember that the server revoked this device: no sync is attempted from now on. An
    in-memory database (tests of other things) has nowhere to keep the mark and nothing to wipe."""
    try:
        marker = _marker(db)
    except ValueError:
        return
    marker.write_text("device_revoked\n", encoding="utf-8")
    with marker.open("rb") as handle:
        os.fsync(handle.fileno())


def is_revoked(db: sessionmaker[Session]) -> bool:
    try:
        return _marker(db).exists()
    except ValueError:  # in memory: never marked
        return False


def kept_rows(session: Session) -> int:
    """Outbox rows that forbid a wipe without an export: pending (the server has never seen
    them), held and conflict (what the collector still sees and may be asked about)."""
    query = select(func.count()).select_from(OutboxRow).where(OutboxRow.state.in_(_KEEPING))
    return session.scalar(query) or 0


def erase_files(db: sessionmaker[Session]) -> list[Path]:
    """Close every connection and delete the database and its companion files; return what
    was deleted. Does not check the outbox: callers use `wipe_if_clear` or `export_and_wipe`."""
    path = database_path(db)
    db.kw["bind"].dispose()  # pooled connections hold the files (and the WAL) open
    candidates = [path.with_name(path.name + suffix) for suffix in _DB_SUFFIXES]
    candidates += [path.with_name(PREFS_FILE), path.with_name(PREFS_FILE + ".tmp")]
    deleted = []
    for candidate in candidates:
        try:
            candidate.unlink()
        except FileNotFoundError:
            continue
        deleted.append(candidate)
    return deleted


def wipe(db: sessionmaker[Session]) -> None:
    """Erase, then create an empty database at head in the same place: the same session
    factory then opens the app on its first-run screen (its engine reconnects to the new file)."""
    path = database_path(db)
    erase_files(db)
    upgrade(path)


def wipe_if_clear(db: sessionmaker[Session]) -> bool:
    """Wipe when nothing is pending, held or in conflict; False (nothing touched) otherwise."""
    with db() as session:
        if kept_rows(session):
            return False
    wipe(db)
    return True


def export_and_wipe(db: sessionmaker[Session], path: Path, *, app_version: str) -> int:
    """Write the pending events to `path`, check the file holds every one of them, then wipe.
    Returns how many events were exported. Raises (and wipes nothing) if the export fails."""
    written = export_pending(db, path, app_version=app_version)
    with db() as session:
        pending = {row.event_id for row in pending_rows(session)}
    exported = _exported_ids(path)
    missing = pending - exported
    if missing or written != len(exported):
        raise RuntimeError(f"the export lacks {len(missing)} pending events: nothing was wiped")
    wipe(db)
    return written


def _exported_ids(path: Path) -> set[str]:
    bodies = json.loads(path.read_text(encoding="utf-8"))
    return {str(event["event_id"]) for body in bodies for event in body["events"]}
