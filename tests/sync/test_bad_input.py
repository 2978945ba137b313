"""Bad input through the real app, next to real phone traffic: every refusal answers its status
and error code, and nothing is written, lost, or applied twice (the invariants of the fault suite
are checked after each case). Complements tests/server/test_sync_push.py, which covers one
malformed event, the gzip bomb, oversize bodies, protocol 2, another collector's device and
revoked tokens on their own."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from mobile.data.models import OutboxRow
from mobile.services import recording
from mobile.services.device import pending_count
from mobile.services.exporting import event_body
from server.db.models import EventConflict, InboundEvent, LedgerEntry
from shared.money import MAX_AMOUNT
from sync.protocol import MAX_PUSH_BYTES
from tests.server.sync_helpers import written_counts
from tests.sync.case import Case
from tests.sync.invariants import recorded_row
from tests.sync.rig import sync
from tests.sync.wire import MALFORMED, malformed_payment

D = Decimal


def _held_only(case: Case, event: dict[str, Any], reason: str) -> None:
    """The event is kept as evidence, held for review, and moved no money."""
    case.session.expire_all()
    row = case.session.scalar(
        select(InboundEvent).where(InboundEvent.event_id == uuid.UUID(event["event_id"]))
    )
    assert row is not None and (row.status, row.reason) == ("held", reason)
    assert row.raw == event
    money = select(LedgerEntry).where(LedgerEntry.event_id == row.event_id)
    assert case.session.scalars(money).first() is None


# Kind of wire.MALFORMED -> the reason the server holds it with.
HELD = {
    "zero": "invalid_payload",
    "negative": "invalid_payload",
    "not_a_number": "invalid_payload",
    "float": "invalid_payload",
    "absurd_exponent": "invalid_payload",
    "over_max": "invalid_payload",
    "unknown_type": "unknown_type",
    "client_not_uuid": "invalid_payload",
    "device_time_not_a_time": "invalid_payload",
    "no_payload": "invalid_payload",
    "negative_seq": "invalid_payload",
}


def test_malformed_events_beside_real_ones_are_held_and_the_real_ones_apply(case: Case) -> None:
    """Every kind of malformed event in one chunk, each between two real payments."""
    real, bad, expected = [], [], []
    for kind in sorted(HELD):
        real.append(case.pay(case.ana1, "1000.00"))
        bad.append((kind, MALFORMED[kind]()))
    body = case.body(case.ana1)
    events = []
    for event, (kind, malformed) in zip(body["events"], bad, strict=True):
        events += [event, malformed]
        expected += [
            (event["event_id"], "applied", None),
            (malformed["event_id"], "held", HELD[kind]),
        ]
    r = case.post(case.ana1, json.dumps({**body, "events": events}).encode())
    assert r.status_code == 200, r.text
    got = [(x["event_id"], x["status"], x.get("reason")) for x in r.json()["results"]]
    assert got == expected
    for kind, malformed in bad:
        _held_only(case, malformed, HELD[kind])
    injected = {m["event_id"]: None for _, m in bad}
    case.check(injected)
    case.drain(injected)  # the phone then pushes the real ones again: duplicates


@pytest.mark.parametrize("amount", ["1.001", "\u0661\u0662.00", " 5.00", "1E2"])
def test_amount_not_written_as_two_decimals_is_held(case: Case, amount: str) -> None:
    bad = malformed_payment(amount, client_id=str(case.client_of(case.ana1)))
    body = {**case.header(case.ana1), "events": [bad]}
    r = case.post(case.ana1, json.dumps(body).encode())
    assert r.status_code == 200
    _held_only(case, bad, "invalid_payload")


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("newer_type_version", 426, "type_version_unsupported"),
        ("no_event_id", 422, "invalid_event"),
    ],
)
def test_request_wide_refusal_at_the_wire_writes_nothing_and_the_phone_keeps_its_rows(
    case: Case, kind: str, status: int, code: str
) -> None:
    """A link slips a refused event into the phone's push: the server writes nothing, the phone's
    loop keeps every row pending, and the next healthy cycle lands each exactly once."""
    for amount in ("10.00", "20.00", "30.00"):
        case.pay(case.ana1, amount)
    before = written_counts(case.session)
    case.ana1.transport.plan(["inject"])
    case.ana1.transport.wire_events = lambda body: [MALFORMED[kind]()]
    report = sync(case.ana1, chunk=200)
    (delivery,) = [d for d in case.world.network.log if d.fault == "inject"]
    assert delivery.status == status
    assert report.http_status == status and not report.ok
    assert written_counts(case.session) == before
    with case.ana1.db() as s:
        assert pending_count(s) == 3
    r = case.post(
        case.ana1, json.dumps({**case.body(case.ana1), "events": [MALFORMED[kind]()]}).encode()
    )
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)
    case.ana1.transport.wire_events = None
    case.drain()


def test_the_other_phone_of_the_same_collector_cannot_push_for_this_one(case: Case) -> None:
    case.pay(case.ana1, "10.00")
    before = written_counts(case.session)
    r = case.post(case.ana2, json.dumps(case.body(case.ana1)).encode())
    assert (r.status_code, r.json()["error"]["code"]) == (403, "device_mismatch")
    assert written_counts(case.session) == before
    case.drain()


def test_same_event_id_from_the_other_phone_is_a_conflict_and_the_first_content_stays(
    case: Case,
) -> None:
    eid = case.pay(case.ana1, "10.00")
    case.drain()
    with case.ana1.db() as session:
        row = session.get(OutboxRow, eid)
        assert row is not None
        event = event_body(row)
    event["payload"]["amount"] = "10000.00"
    body = {**case.header(case.ana2), "events": [event]}
    r = case.post(case.ana2, json.dumps(body).encode())
    assert r.status_code == 200
    assert [(x["status"], x["reason"]) for x in r.json()["results"]] == [
        ("conflict", "same_event_id_different_content")
    ]
    case.session.expire_all()
    assert len(case.session.scalars(select(EventConflict)).all()) == 1
    case.check()
    case.drain()


def test_revoked_device_keeps_its_outbox_and_writes_nothing(case: Case) -> None:
    for amount in ("10.00", "20.00"):
        case.pay(case.beto, amount)
    admin = case.world.office.tokens["admin"]
    r = case.world.server.post(f"/v1/devices/{case.beto.device_id}/revoke", headers=admin)
    assert r.status_code == 200, r.text
    before = written_counts(case.session)
    report = sync(case.beto, chunk=200)
    # Revoked, not "log in again": the app stops syncing and wipes only once these are exported.
    assert (report.error_kind, report.http_status) == ("revoked", 401)
    assert written_counts(case.session) == before
    with case.beto.db() as s:
        assert pending_count(s) == 2  # never dropped: exported, then posted by the office
    case.check()


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (lambda raw: gzip.compress(raw)[:-12], {"Content-Encoding": "gzip"}, 422, "invalid_json"),
        (lambda raw: b"\x1f\x8b" + raw, {"Content-Encoding": "gzip"}, 422, "invalid_json"),
        (lambda raw: raw, {"Content-Encoding": "br"}, 422, "unsupported_encoding"),
        (lambda raw: raw[: len(raw) // 2], {}, 422, "invalid_json"),
        (lambda raw: b"[" + raw + b"]", {}, 422, "invalid_push"),
    ],
    ids=["gzip_cut", "gzip_corrupt", "brotli", "json_cut", "not_an_object"],
)
def test_unreadable_bodies_write_nothing(
    case: Case,
    content: Callable[[bytes], bytes],
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    case.pay(case.ana1, "10.00")
    before = written_counts(case.session)
    r = case.post(case.ana1, content(json.dumps(case.body(case.ana1)).encode()), headers)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)
    assert written_counts(case.session) == before
    case.drain()


def test_a_backlog_past_the_size_limit_goes_in_chunks_within_it(case: Case) -> None:
    """A week offline with long notes: the loop splits by bytes as well as by count."""
    client = case.client_of(case.ana1)
    for n in range(135):
        done = recording.record_visit(
            case.ana1.db,
            client_id=client,
            outcome="contacted",
            now=case.ana1.now(),
            notes=f"{n} " + "x" * 1990,
        )
        case.recorded[done.event_id] = recorded_row(case.ana1, done.event_id)
    case.pay(case.ana1, "10.00")
    assert len(json.dumps(case.body(case.ana1)).encode()) > MAX_PUSH_BYTES
    report = sync(case.ana1, chunk=200)
    assert report.ok and report.pending_left == 0
    pushes = [d for d in case.world.network.log if d.path == "/v1/sync/push"]
    assert len(pushes) >= 2 and all(d.status == 200 for d in pushes)
    case.drain()


def test_pull_after_payments_past_the_largest_amount(case: Case) -> None:
    case.pay(case.ana1, str(MAX_AMOUNT))
    case.pay(case.ana1, str(MAX_AMOUNT))
    case.drain()
