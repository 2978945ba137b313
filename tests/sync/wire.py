"""What a tampering link slips into a push body (see `faults.FaultTransport`, fault `inject`):
malformed events under fresh ids, or the same event_id as one of the phone's with other
content. The server must keep the first as held evidence, answer the second `conflict`, and
apply neither."""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.sync.faults import WireEvents

DEVICE_TIME = "2026-11-23T10:21:07-05:00"


def malformed_payment(amount: object, **over: Any) -> dict[str, Any]:
    event = {
        "event_id": str(uuid.uuid4()),
        "device_seq": 900_000,
        "type": "payment.collected",
        "type_version": 1,
        "client_id": str(uuid.uuid4()),
        "device_time": DEVICE_TIME,
        "payload": {"amount": amount, "method": "cash", "receipt_no": "XXX-900000"},
    }
    event.update(over)
    return event


# Each makes a fresh malformed event. All but the last two are held one by one; those two
# refuse the whole request (426 / 422) with nothing written.
MALFORMED: dict[str, Callable[[], dict[str, Any]]] = {
    "zero": lambda: malformed_payment("0.00"),
    "negative": lambda: malformed_payment("-5000.00"),
    "not_a_number": lambda: malformed_payment("abc"),
    "float": lambda: malformed_payment(12.5),  # money travels as a string
    "absurd_exponent": lambda: malformed_payment("1e30"),
    "over_max": lambda: malformed_payment("10000000000000000.00"),
    "unknown_type": lambda: malformed_payment("10.00", type="payment.refunded"),
    "client_not_uuid": lambda: malformed_payment("10.00", client_id="not-a-uuid"),
    "device_time_not_a_time": lambda: malformed_payment("10.00", device_time="ayer"),
    "no_payload": lambda: malformed_payment("10.00", payload=None),
    "negative_seq": lambda: malformed_payment("10.00", device_seq=-1),
    "newer_type_version": lambda: malformed_payment("10.00", type_version=2),
    "no_event_id": lambda: malformed_payment("10.00", event_id="not-an-id"),
}


def _other_content(event: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    payload = changed.get("payload")
    if isinstance(payload, dict) and "amount" in payload:
        payload["amount"] = str(Decimal(str(payload["amount"])) + 1)
    elif isinstance(payload, dict) and "reason" in payload:
        payload["reason"] = payload["reason"] + " (otra)"
    else:
        changed["device_seq"] = int(changed["device_seq"]) + 1_000_000
    return changed


def wire_events(kind: str, rng: random.Random) -> WireEvents:
    def extra(body: dict[str, Any]) -> list[dict[str, Any]]:
        events = [e for e in body.get("events", []) if isinstance(e, dict)]
        if kind == "conflict" and events:
            return [_other_content(rng.choice(events))]
        makers = list(MALFORMED.values())
        return [rng.choice(makers)() for _ in range(rng.randint(1, 2))]

    return extra
