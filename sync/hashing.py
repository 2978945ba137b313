"""Content hash of an event: how the server tells a retry (same hash → `duplicate`) from a client
bug (same event_id, other content → `conflict`). Stable across key order, whitespace, omitted
optional fields and the UTC offset a device time was written with."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from sync.protocol import Event, InboundEvent


def canonical_json(value: Any) -> bytes:
    """One byte string per JSON value: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def raw_content_hash(raw: Mapping[str, Any]) -> str:
    """Hash of an event as received, for events that do not parse (held with their raw JSON)."""
    return hashlib.sha256(canonical_json(raw)).hexdigest()


def event_content_hash(event: Event) -> str:
    """Hash of a valid event's meaning: the normalized model, device time in UTC."""
    data = event.model_dump(mode="json", exclude_none=True)
    data["device_time"] = event.device_time.astimezone(UTC).isoformat()
    return raw_content_hash(data)


def inbound_content_hash(inbound: InboundEvent) -> str:
    """The hash the server records for one received event, parsed or not."""
    if inbound.event is not None:
        return event_content_hash(inbound.event)
    return raw_content_hash(inbound.raw)
