"""The pull cursor: opaque text that decodes to exactly what was encoded; anything else is a
resync, never a crash or a silently different position."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.services.pull_cursor import Cursor, decode
from shared.errors import Conflict

_cursors = st.builds(
    Cursor,
    epoch=st.uuids().map(str),
    seq=st.integers(min_value=0, max_value=2**63 - 1),
    snapshot=st.integers(min_value=0, max_value=2**63 - 1),
    after_client=st.none() | st.uuids(),
    in_snapshot=st.booleans(),
)


@given(_cursors)
def test_round_trip(cursor: Cursor) -> None:
    text = cursor.encode()
    assert decode(text) == cursor
    assert text.isascii() and "=" not in text and "+" not in text and "/" not in text


@given(st.text(max_size=60))
def test_random_text_is_a_resync_or_a_cursor_that_spells_itself(text: str) -> None:
    try:
        cursor = decode(text)
    except Conflict as exc:
        assert exc.code == "resync_required"
    else:
        assert cursor.encode() == text


@given(_cursors, st.data())
def test_a_changed_character_never_decodes_to_the_same_cursor(cursor: Cursor, data) -> None:  # type: ignore[no-untyped-def]
    text = cursor.encode()
    i = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    other = data.draw(st.sampled_from("ABCabc0123-_").filter(lambda ch: ch != text[i]))
    changed = text[:i] + other + text[i + 1 :]
    try:
        assert decode(changed) != cursor
    except Conflict as exc:
        assert exc.code == "resync_required"


def test_worked_example() -> None:
    client = uuid.UUID("0193a1b2-0000-7000-8000-000000000001")
    cursor = Cursor(epoch="e", seq=0, snapshot=41, after_client=client, in_snapshot=True)
    assert cursor.encode() == "YzEuZS5zLjAuNDEuMDE5M2ExYjIwMDAwNzAwMDgwMDAwMDAwMDAwMDAwMDE"
    with pytest.raises(Conflict):
        decode("YzEuZS5zLjAuNDEuMDE5M2ExYjIwMDAwNzAwMDgwMDAwMDAwMDAwMDAwMDE=")  # padded alias
