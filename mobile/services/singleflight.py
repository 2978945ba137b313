"""At most one sync at a time per phone database: a lock per database in this process (the UI
and a background task share it) and an advisory file lock next to the database for other
processes. `flock` locks die with their process, so a killed sync never leaves a stale lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux/Android: in-process lock only
    fcntl = None  # type: ignore[assignment]

_GUARD = threading.Lock()
_LOCKS: dict[str, threading.Lock] = {}


@contextmanager
def _file_lock(path: Path | None) -> Iterator[bool]:
    if path is None or fcntl is None:
        yield True
        return
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def single_flight(key: str, lock_file: Path | None) -> Iterator[bool]:
    """Yields True when this caller holds the flight, False at once when another one does."""
    with _GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        with _file_lock(lock_file) as held:
            yield held
    finally:
        lock.release()
