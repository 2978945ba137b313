"""The pull cursor: opaque to the phone, urlsafe base64 of a short text naming the epoch and where
the scope's reading stands.

A first sync (empty cursor) reads in two phases. The snapshot phase pages through the collector's
current clients by id; `snapshot` is the server_seq counter when it began and `after_client` the
last client sent. The log phase then reads the change log by seq after `seq`, leaving out client
rows at or below `snapshot` (the snapshot covered them) but not event statuses. A later pull is
the log phase alone.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass

from shared.errors import Conflict

_VERSION = "c1"
_MAX_CHARS = 400


def resync_required(why: str) -> Conflict:
    return Conflict(
        f"this cursor cannot be continued ({why}); pull again from an empty cursor",
        code="resync_required",
        details={"reason": why},
    )


@dataclass(frozen=True)
class Cursor:
    epoch: str
    seq: int = 0  # log phase: every scope change up to here was sent
    snapshot: int = 0  # client rows at or below this seq came with the snapshot
    after_client: uuid.UUID | None = None  # snapshot phase: the last client sent
    in_snapshot: bool = False

    def encode(self) -> str:
        after = self.after_client.hex if self.after_client else "-"
        phase = "s" if self.in_snapshot else "l"
        text = f"{_VERSION}.{self.epoch}.{phase}.{self.seq}.{self.snapshot}.{after}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(text: str) -> Cursor:
    """Parse a cursor; anything malformed raises `resync_required` (the phone starts over)."""
    if len(text) > _MAX_CHARS:
        raise resync_required("malformed")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        version, epoch, phase, seq, snapshot, after = raw.split(".")
        if version != _VERSION or phase not in ("s", "l") or not epoch:
            raise ValueError(raw)
        cursor = Cursor(
            epoch=epoch,
            seq=_natural(seq),
            snapshot=_natural(snapshot),
            after_client=None if after == "-" else uuid.UUID(hex=after),
            in_snapshot=phase == "s",
        )
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise resync_required("malformed") from exc
    if cursor.encode() != text:  # one spelling per cursor: no aliases to reason about
        raise resync_required("malformed")
    return cursor


def _natural(text: str) -> int:
    if not text.isdigit() or len(text) > 19:
        raise ValueError(text)
    return int(text)
