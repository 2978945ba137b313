"""The scope checksum both sides compute: order-independent, sensitive to every id and version."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sync.checksum import scope_checksum, scope_digest

_rows = st.lists(
    st.tuples(
        st.uuids(),
        st.integers(min_value=1, max_value=2**40),
        st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
    ),
    unique_by=lambda r: r[0],
    max_size=30,
)


@given(_rows, st.randoms())
def test_checksum_ignores_order(rows: list[tuple[uuid.UUID, int, Decimal]], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert scope_checksum(shuffled) == scope_checksum(rows)


@given(_rows.filter(bool), st.data())
def test_digest_sees_every_version_and_id(rows, data) -> None:  # type: ignore[no-untyped-def]
    pairs = [(cid, version) for cid, version, _ in rows]
    i = data.draw(st.integers(min_value=0, max_value=len(pairs) - 1))
    bumped = [*pairs[:i], (pairs[i][0], pairs[i][1] + 1), *pairs[i + 1 :]]
    assert scope_digest(bumped) != scope_digest(pairs)
    assert scope_digest(pairs[:i] + pairs[i + 1 :]) != scope_digest(pairs)


def test_worked_example() -> None:
    a = uuid.UUID("00000000-0000-0000-0000-00000000000a")
    b = uuid.UUID("00000000-0000-0000-0000-00000000000b")
    got = scope_checksum([(b, 3, Decimal("10.50")), (a, 1, Decimal("-0.50"))])
    assert (got.clients, got.balance_sum) == (2, Decimal("10.00"))
    # sha256 of the sorted "id-hex:version" lines, first 32 hex digits
    lines = f"{a.hex}:1\n{b.hex}:3\n".encode()
    assert got.digest == hashlib.sha256(lines).hexdigest()[:32]
    assert scope_checksum([]).digest == hashlib.sha256(b"").hexdigest()[:32]
