"""The wire contract: every model survives JSON both ways, money never travels as a float, and
reading a push body refuses whole requests only where the protocol says so."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.errors import InvalidInput, TooLarge
from sync.errors import UpgradeRequired
from sync.protocol import (
    MAX_EVENTS_PER_PUSH,
    PaymentCollected,
    PaymentCollectedEvent,
    PullResponse,
    PushRequest,
    PushResponse,
    VisitRecorded,
    read_push,
)
from tests.sync import strategies as s

models = st.one_of(
    s.visits,
    s.promises,
    s.payments,
    s.voids,
    s.events,
    s.push_requests,
    s.push_results,
    s.push_responses,
    s.changes,
    s.checksums,
    s.pull_responses,
)


@given(models)
def test_every_model_round_trips_through_json(model: BaseModel) -> None:
    wire = model.model_dump_json()
    again = type(model).model_validate_json(wire)
    assert again == model
    assert again.model_dump_json() == wire
    # Omitting the optional fields that are None reads back the same model.
    assert type(model).model_validate_json(model.model_dump_json(exclude_none=True)) == model


@given(s.push_requests)
def test_push_request_read_from_plain_json_equals_the_model(request: PushRequest) -> None:
    data = json.loads(request.model_dump_json())
    inbound = read_push(data)
    assert inbound.device_id == request.device_id
    assert tuple(i.event for i in inbound.events) == request.events
    assert all(i.reason is None for i in inbound.events)


EXAMPLE: dict[str, Any] = {
    "protocol": 1,
    "device_id": "6f1c1a52-8d1e-4bf5-9d43-3c2c7b0f6a11",
    "app_version": "1.0.0",
    "events": [
        {
            "event_id": "0b7e0c3e-2f4e-4a57-b6a0-6d6b0c1e9a01",
            "device_seq": 412,
            "type": "payment.collected",
            "type_version": 1,
            "client_id": "1c9e8a2b-47c8-4b64-8f0f-3f5f7f1f2a10",
            "device_time": "2026-11-23T10:21:07-05:00",
            "payload": {"amount": "250000.00", "method": "cash", "receipt_no": "K7Q-000412"},
        }
    ],
}


def _with_event(**changes: Any) -> dict[str, Any]:
    event = {**EXAMPLE["events"][0], **changes}
    return {**EXAMPLE, "events": [event]}


class TestWorkedExample:
    def test_the_design_doc_example_reads(self) -> None:
        push = PushRequest.model_validate(EXAMPLE)
        event = push.events[0]
        assert isinstance(event, PaymentCollectedEvent)
        assert event.payload.amount == Decimal("250000.00")
        assert event.device_time.utcoffset() is not None
        assert json.loads(push.model_dump_json(exclude_none=True)) == EXAMPLE

    def test_money_is_a_two_decimal_string(self) -> None:
        p = PaymentCollected(amount=Decimal("1500"), method="cash", receipt_no="K7Q-1")
        assert json.loads(p.model_dump_json())["amount"] == "1500.00"

    @pytest.mark.parametrize("amount", [250000.0, "0", "-5.00", "abc", "1e30"])
    def test_bad_amounts_are_refused(self, amount: object) -> None:
        with pytest.raises(ValidationError):
            PaymentCollected.model_validate(
                {"amount": amount, "method": "cash", "receipt_no": "K7Q-1"}
            )

    def test_naive_device_time_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            PushRequest.model_validate(_with_event(device_time="2026-11-23T10:21:07"))

    def test_unknown_fields_are_refused(self) -> None:
        with pytest.raises(ValidationError):
            VisitRecorded.model_validate({"outcome": "contacted", "mood": "good"})

    def test_models_are_frozen(self) -> None:
        v = VisitRecorded(outcome="contacted")
        with pytest.raises(ValidationError):
            v.outcome = "refused"  # type: ignore[misc]

    def test_at_most_200_events(self) -> None:
        events = [EXAMPLE["events"][0]] * (MAX_EVENTS_PER_PUSH + 1)
        with pytest.raises(ValidationError):
            PushRequest.model_validate({**EXAMPLE, "events": events})

    def test_response_shapes(self) -> None:
        body = {
            "server_epoch": "e1",
            "results": [
                {"event_id": str(uuid.UUID(int=1)), "status": "applied", "server_seq": 7},
                {"event_id": str(uuid.UUID(int=2)), "status": "held", "reason": "client_closed"},
            ],
        }
        assert json.loads(PushResponse.model_validate(body).model_dump_json(exclude_none=True)) == (
            body
        )
        pull = {
            "server_epoch": "e1",
            "changes": [{"seq": 3, "entity": "client", "id": "c", "op": "remove", "reason": "x"}],
            "next_cursor": "3",
            "has_more": False,
            "scope_checksum": {"clients": 1, "balance_sum": "10.50", "digest": "d"},
        }
        assert json.loads(PullResponse.model_validate(pull).model_dump_json(exclude_none=True)) == (
            pull
        )


class TestReadPush:
    def test_protocol_other_than_1_is_426(self) -> None:
        with pytest.raises(UpgradeRequired) as err:
            read_push({**EXAMPLE, "protocol": 2})
        assert err.value.code == "protocol_unsupported"

    def test_newer_type_version_refuses_the_whole_request(self) -> None:
        with pytest.raises(UpgradeRequired) as err:
            read_push(_with_event(type_version=2))
        assert err.value.code == "type_version_unsupported"

    def test_too_many_events_is_413(self) -> None:
        events = [EXAMPLE["events"][0]] * (MAX_EVENTS_PER_PUSH + 1)
        with pytest.raises(TooLarge) as err:
            read_push({**EXAMPLE, "events": events})
        assert err.value.code == "too_many_events"

    @pytest.mark.parametrize(
        "body", [[], {"protocol": 1, "events": {}}, {**EXAMPLE, "device_id": 3}]
    )
    def test_bad_shapes_are_422(self, body: object) -> None:
        with pytest.raises(InvalidInput) as err:
            read_push(body)
        assert err.value.code == "invalid_push"

    def test_event_without_event_id_is_422(self) -> None:
        with pytest.raises(InvalidInput) as err:
            read_push(_with_event(event_id="nope"))
        assert err.value.code == "invalid_event"
        assert err.value.details == {"index": 0}

    def test_unknown_type_is_kept_to_hold(self) -> None:
        (event,) = read_push(_with_event(type="visit.photographed")).events
        assert (event.event, event.reason) == (None, "unknown_type")
        assert event.raw["type"] == "visit.photographed"

    @pytest.mark.parametrize("kind", [["visit.recorded"], {"a": 1}, 7, None])
    def test_a_type_that_is_not_a_string_is_held_as_unknown(self, kind: object) -> None:
        # Found by schemathesis: a list or a dict here once raised TypeError (a 500).
        (event,) = read_push(_with_event(type=kind)).events
        assert (event.event, event.reason) == (None, "unknown_type")

    @pytest.mark.parametrize(
        "change",
        [
            {"payload": {"amount": 250000.5, "method": "cash", "receipt_no": "K"}},
            {"payload": {"amount": "-1.00", "method": "cash", "receipt_no": "K"}},
            {"payload": {"amount": "1.00", "method": "barter", "receipt_no": "K"}},
            {"device_seq": 0},
            {"client_id": "somebody"},
            {"type_version": "1"},
        ],
    )
    def test_malformed_event_is_kept_with_its_raw_json(self, change: dict[str, Any]) -> None:
        body = _with_event(**change)
        (event,) = read_push(body).events
        assert (event.event, event.reason) == (None, "invalid_payload")
        assert event.raw == body["events"][0]
        assert event.event_id == uuid.UUID(EXAMPLE["events"][0]["event_id"])
