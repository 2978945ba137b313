"""The content hash: same meaning, same hash; any change of content, another hash."""

from __future__ import annotations

import json
import random
from datetime import UTC
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sync.hashing import canonical_json, event_content_hash, inbound_content_hash, raw_content_hash
from sync.protocol import Event, PaymentCollectedEvent, read_push
from tests.sync import strategies as s
from tests.sync.test_protocol import EXAMPLE


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


def _hash_of_json(text: str) -> str:
    body = {**EXAMPLE, "events": [json.loads(text)]}
    return inbound_content_hash(read_push(body).events[0])


@given(s.events, st.randoms(use_true_random=False), st.integers(0, 4))
def test_hash_ignores_key_order_whitespace_and_omitted_nones(
    event: Event, rng: random.Random, indent: int
) -> None:
    data = json.loads(event.model_dump_json())
    plain = json.dumps(data)
    other = json.dumps(
        _shuffled(json.loads(event.model_dump_json(exclude_none=True)), rng), indent=indent
    )
    assert _hash_of_json(plain) == _hash_of_json(other) == event_content_hash(event)


@given(s.events)
def test_hash_ignores_the_utc_offset_of_the_device_time(event: Event) -> None:
    in_utc = event.model_copy(update={"device_time": event.device_time.astimezone(UTC)})
    assert event_content_hash(in_utc) == event_content_hash(event)


@given(s.events, s.events)
def test_different_events_hash_differently(a: Event, b: Event) -> None:
    def meaning(e: Event) -> tuple[object, ...]:
        return (
            e.model_dump(mode="json", exclude_none=True, exclude={"device_time"}),
            e.device_time,
        )

    assert (event_content_hash(a) == event_content_hash(b)) == (meaning(a) == meaning(b))


def test_a_changed_amount_changes_the_hash() -> None:
    event = PaymentCollectedEvent.model_validate(EXAMPLE["events"][0])
    paid_less = event.model_copy(
        update={"payload": event.payload.model_copy(update={"amount": event.payload.amount - 1})}
    )
    assert event_content_hash(event) != event_content_hash(paid_less)


def test_canonical_json_is_compact_sorted_utf8() -> None:
    assert canonical_json({"b": 1, "a": "año"}) == '{"a":"año","b":1}'.encode()


def test_raw_hash_of_malformed_events_is_order_independent() -> None:
    assert raw_content_hash({"x": 1, "y": [1, 2]}) == raw_content_hash({"y": [1, 2], "x": 1})
    assert raw_content_hash({"x": 1}) != raw_content_hash({"x": 2})
