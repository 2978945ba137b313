"""The scope checksum of a pull (sync-protocol.md, "Pull"): what a phone's client mirror must add
up to once every page is applied. Pure and shared: the server computes it over the collector's
clients, the phone over its mirror, with this same code; a mismatch means a resync.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from decimal import Decimal

from shared.money import ZERO, money
from sync.protocol import ScopeChecksum

DIGEST_CHARS = 32  # 128 bits of SHA-256: plenty to notice a missed change


def scope_digest(versions: Iterable[tuple[uuid.UUID, int]]) -> str:
    """A digest over (client id, version) pairs that does not depend on their order."""
    h = hashlib.sha256()
    for client_id, version in sorted(versions):
        h.update(f"{client_id.hex}:{version}\n".encode())
    return h.hexdigest()[:DIGEST_CHARS]


def scope_checksum(clients: Iterable[tuple[uuid.UUID, int, Decimal]]) -> ScopeChecksum:
    """From (client id, version, balance) of every client in the scope."""
    rows = list(clients)
    total = sum((money(balance) for _, _, balance in rows), ZERO)
    return ScopeChecksum(
        clients=len(rows),
        balance_sum=total,
        digest=scope_digest((cid, version) for cid, version, _ in rows),
    )
