"""POST /v1/sync/push: every event recorded once, money never refused for a business reason.
Worked examples by hand on both engines; the invariants are checked after each scenario."""

from __future__ import annotations

import gzip
import time
import uuid
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    ChangeLog,
    EventConflict,
    InboundEvent,
    LedgerEntry,
    Promise,
    ReviewItem,
    RoutePlan,
    SuspenseEntry,
    Visit,
)
from sync.protocol import MAX_PUSH_BYTES, NO_CLIENT
from tests.server.sync_helpers import (
    MakeUser,
    Phone,
    body,
    check_invariants,
    event,
    invoice,
    payment,
    promise,
    push,
    push_gzip,
    raw_json,
    register_phone,
    statuses,
    visit,
    void,
    written_counts,
)

D = Decimal


@pytest.fixture
def phone(client: TestClient, make_user: MakeUser) -> Phone:
    return register_phone(client, make_user("collector"))


def _entry(session: Session, event_id: str) -> LedgerEntry:
    session.expire_all()
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.event_id == uuid.UUID(event_id)))
    assert entry is not None
    return entry


def _reviews(session: Session) -> list[tuple[str, str]]:
    return [(r.kind, r.reason) for r in session.scalars(select(ReviewItem).order_by(ReviewItem.id))]


class TestApplied:
    def test_payment_oldest_due_first_then_credit(
        self, client: TestClient, session: Session, phone: Phone, make_client, clock
    ) -> None:
        c = make_client(collector=phone.user)
        old = invoice(session, c, "F-1", date(2026, 9, 30), "100000.00")
        new = invoice(session, c, "F-2", date(2026, 10, 31), "200000.00")
        p = payment(phone, c.id, "350000.00")
        r = push(client, phone, [p])
        assert statuses(r) == [("applied", None)]
        result = r.json()["results"][0]
        assert result["event_id"] == p["event_id"] and result["server_seq"] >= 1
        assert r.json()["server_epoch"]
        session.expire_all()
        # 100,000 to F-1, 200,000 to F-2, 50,000 left as credit: balance -50,000.
        assert (old.balance, new.balance, c.balance) == (D("0.00"), D("0.00"), D("-50000.00"))
        entry = _entry(session, p["event_id"])
        assert (entry.kind, entry.source, entry.amount) == ("payment", "sync", D("-350000.00"))
        assert entry.effective_date == date(2026, 11, 23)  # the device's day in Bogotá
        assert entry.created_by == phone.user.id
        check_invariants(session)

    def test_chosen_invoices(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        old = invoice(session, c, "F-10", date(2026, 9, 30), "100000.00")
        new = invoice(session, c, "F-11", date(2026, 10, 31), "200000.00")
        p = payment(phone, c.id, "150000.00", payload={"invoice_numbers": ["F-11"]})
        assert statuses(push(client, phone, [p])) == [("applied", None)]
        session.expire_all()
        assert (old.balance, new.balance) == (D("100000.00"), D("50000.00"))
        check_invariants(session)

    def test_visit_and_promise_are_stored(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        v, pr = visit(phone, c.id, "promise"), promise(phone, c.id, "80000.00")
        assert statuses(push(client, phone, [v, pr])) == [("applied", None), ("applied", None)]
        stored_visit = session.scalar(
            select(Visit).where(Visit.event_id == uuid.UUID(v["event_id"]))
        )
        assert stored_visit is not None
        assert (stored_visit.outcome, stored_visit.lat, stored_visit.client_id) == (
            "promise",
            4.65,
            c.id,
        )
        stored = session.scalar(
            select(Promise).where(Promise.event_id == uuid.UUID(pr["event_id"]))
        )
        assert stored is not None and (stored.amount, stored.due_date) == (
            D("80000.00"),
            date(2026, 11, 30),
        )

    def test_visit_day_is_the_device_day_in_bogota(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        # 23:30 on Sunday in Bogotá is 04:30 on Monday UTC: it belongs to Sunday.
        c = make_client(collector=phone.user)
        v = visit(phone, c.id, "contacted", device_time="2026-11-22T23:30:00-05:00")
        push(client, phone, [v])
        stored = session.scalar(select(Visit).where(Visit.event_id == uuid.UUID(v["event_id"])))
        assert stored is not None and stored.business_date == date(2026, 11, 22)

    def test_route_plan_is_stored_as_sent(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        a, b, c = (make_client(collector=phone.user) for _ in range(3))
        plan = event(
            phone,
            "route.planned",
            NO_CLIENT,
            {
                "plan_date": "2026-11-23",
                "stops": [str(b.id), str(a.id)],
                "skipped": [{"client_id": str(c.id), "reason": "no_time"}],
                "distance_m": 5230.5,
            },
        )
        assert statuses(push(client, phone, [plan])) == [("applied", None)]
        stored = session.scalar(
            select(RoutePlan).where(RoutePlan.event_id == uuid.UUID(plan["event_id"]))
        )
        assert stored is not None
        assert (stored.plan_date, stored.stops, stored.skipped, stored.distance_m) == (
            date(2026, 11, 23),
            [str(b.id), str(a.id)],
            [{"client_id": str(c.id), "reason": "no_time"}],
            5230.5,
        )
        check_invariants(session)

    def test_server_seq_increases_in_push_order(
        self, client: TestClient, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        first = push(client, phone, [visit(phone, c.id), visit(phone, c.id)]).json()["results"]
        second = push(client, phone, [visit(phone, c.id)]).json()["results"]
        seqs = [r["server_seq"] for r in first + second]
        assert seqs == sorted(seqs) and len(set(seqs)) == 3
        assert seqs[1] == seqs[0] + 1 and seqs[2] > seqs[1]


class TestDuplicatesAndConflicts:
    def test_retry_after_a_lost_response_answers_duplicate_with_the_same_seq(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        invoice(session, c, "F-20", date(2026, 9, 30), "100000.00")
        events = [payment(phone, c.id, "40000.00"), visit(phone, c.id)]
        first = push(client, phone, events).json()["results"]
        before = written_counts(session)
        again = push(client, phone, events).json()["results"]
        assert [r["status"] for r in again] == ["duplicate", "duplicate"]
        assert [r["server_seq"] for r in again] == [r["server_seq"] for r in first]
        assert written_counts(session) == before
        session.expire_all()
        assert c.balance == D("60000.00")
        check_invariants(session)

    def test_duplicate_inside_one_chunk(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        p = payment(phone, c.id, "1000.00")
        results = push(client, phone, [p, p]).json()["results"]
        assert [r["status"] for r in results] == ["applied", "duplicate"]
        assert results[0]["server_seq"] == results[1]["server_seq"]
        check_invariants(session)

    def test_same_event_id_other_content_is_a_conflict_kept_for_forensics(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        p = payment(phone, c.id, "1000.00")
        push(client, phone, [p])
        changed = {**p, "payload": {**p["payload"], "amount": "9000.00"}}
        r = push(client, phone, [changed])
        assert statuses(r) == [("conflict", "same_event_id_different_content")]
        assert "server_seq" not in r.json()["results"][0]
        push(client, phone, [changed])  # the phone retries after a lost response: kept once
        conflicts = session.scalars(select(EventConflict)).all()
        assert [x.raw["payload"]["amount"] for x in conflicts] == ["9000.00"]
        assert _reviews(session) == [("conflict", "same_event_id_different_content")]
        session.expire_all()
        assert c.balance == D("-1000.00")  # the original stands, never overwritten
        check_invariants(session)

    def test_key_order_and_whitespace_do_not_make_a_conflict(
        self, client: TestClient, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        p = payment(phone, c.id, "1000.00")
        push(client, phone, [p])
        reordered = dict(reversed(list(p.items())))
        again = client.post(
            "/v1/sync/push",
            content=raw_json(body(phone, [reordered])).replace(b", ", b" ,  "),
            headers={**phone.headers, "Content-Type": "application/json"},
        )
        assert statuses(again) == [("duplicate", None)]


class TestHeld:
    def test_closed_and_reassigned_clients_get_the_money_and_a_review(
        self, client: TestClient, session: Session, phone: Phone, make_client, make_user
    ) -> None:
        closed = make_client(collector=phone.user, status="closed")
        other = make_client(collector=make_user("collector").user)
        events = [payment(phone, closed.id, "5000.00"), payment(phone, other.id, "7000.00")]
        assert statuses(push(client, phone, events)) == [
            ("held", "client_closed"),
            ("held", "client_reassigned"),
        ]
        session.expire_all()
        assert (closed.balance, other.balance) == (D("-5000.00"), D("-7000.00"))
        assert _reviews(session) == [
            ("held_event", "client_closed"),
            ("held_event", "client_reassigned"),
        ]
        row = session.scalar(
            select(InboundEvent).where(InboundEvent.event_id == uuid.UUID(events[0]["event_id"]))
        )
        assert row is not None and (row.status, row.reason, row.server_seq > 0) == (
            "held",
            "client_closed",
            True,
        )
        check_invariants(session)

    def test_unknown_client_money_goes_to_suspense(
        self, client: TestClient, session: Session, phone: Phone
    ) -> None:
        ghost = uuid.uuid4()
        p = payment(phone, ghost, "12345.67")
        assert statuses(push(client, phone, [p])) == [("held", "client_unknown")]
        (parked,) = session.scalars(select(SuspenseEntry)).all()
        assert (parked.amount, parked.client_id, parked.user_id) == (
            D("12345.67"),
            ghost,
            phone.user.id,
        )
        assert _reviews(session) == [("held_event", "client_unknown")]
        check_invariants(session)

    def test_visit_to_an_unknown_client_is_kept_and_held(
        self, client: TestClient, session: Session, phone: Phone
    ) -> None:
        v = visit(phone, uuid.uuid4())
        assert statuses(push(client, phone, [v])) == [("held", "client_unknown")]
        assert session.scalar(select(Visit).where(Visit.event_id == uuid.UUID(v["event_id"])))

    def test_one_malformed_event_is_held_and_the_others_apply(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        good = payment(phone, c.id, "1000.00")
        bad = payment(phone, c.id, "1000.00", payload={"amount": 1000.5})  # a float
        odd = {**visit(phone, c.id), "type": "visit.photographed"}
        r = push(client, phone, [good, bad, odd])
        assert statuses(r) == [
            ("applied", None),
            ("held", "invalid_payload"),
            ("held", "unknown_type"),
        ]
        row = session.scalar(
            select(InboundEvent).where(InboundEvent.event_id == uuid.UUID(bad["event_id"]))
        )
        assert row is not None
        assert row.raw == bad and row.type == "payment.collected" and row.client_id == c.id
        session.expire_all()
        assert c.balance == D("-1000.00")
        # A retry of the malformed event is a duplicate, not a second review.
        assert statuses(push(client, phone, [bad])) == [("duplicate", "invalid_payload")]
        assert len(_reviews(session)) == 2
        check_invariants(session)


class TestVoid:
    def test_void_reverses_exactly(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        a = invoice(session, c, "F-30", date(2026, 9, 30), "100000.00")
        b = invoice(session, c, "F-31", date(2026, 10, 31), "100000.00")
        p = payment(phone, c.id, "150000.00")
        push(client, phone, [p])
        r = push(client, phone, [void(phone, c.id, p["event_id"])])
        assert statuses(r) == [("applied", None)]
        session.expire_all()
        assert (a.balance, b.balance, c.balance) == (
            D("100000.00"),
            D("100000.00"),
            D("200000.00"),
        )
        reversal = session.scalar(
            select(LedgerEntry).where(LedgerEntry.reverses_id == _entry(session, p["event_id"]).id)
        )
        assert reversal is not None and reversal.amount == D("150000.00")
        # A second void of the same payment is held, not applied twice.
        again = push(client, phone, [void(phone, c.id, p["event_id"])])
        assert statuses(again) == [("held", "already_voided")]
        check_invariants(session)

    def test_void_in_the_same_chunk_as_its_payment(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        p = payment(phone, c.id, "1000.00")
        assert statuses(push(client, phone, [p, void(phone, c.id, p["event_id"])])) == [
            ("applied", None),
            ("applied", None),
        ]
        session.expire_all()
        assert c.balance == D("0.00")

    def test_void_of_unknown_or_foreign_payments_is_held(
        self, client: TestClient, session: Session, phone: Phone, make_client, make_user
    ) -> None:
        c = make_client(collector=phone.user)
        other = register_phone(client, make_user("collector"))
        theirs = payment(other, c.id, "500.00")
        push(client, other, [theirs])
        parked = payment(phone, uuid.uuid4(), "700.00")
        push(client, phone, [parked])
        r = push(
            client,
            phone,
            [
                void(phone, c.id, str(uuid.uuid4())),
                void(phone, c.id, theirs["event_id"]),
                void(phone, c.id, parked["event_id"]),
            ],
        )
        assert statuses(r) == [
            ("held", "payment_not_found"),
            ("held", "void_not_allowed"),
            ("held", "payment_in_suspense"),
        ]
        session.expire_all()
        assert c.balance == D("-500.00")
        check_invariants(session)


class TestRequestRefusals:
    def test_gzip_body(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        r = push_gzip(client, phone, raw_json(body(phone, [payment(phone, c.id, "10.00")])))
        assert statuses(r) == [("applied", None)]

    def test_gzip_bomb_is_refused_fast_with_nothing_written(
        self, client: TestClient, session: Session, phone: Phone
    ) -> None:
        bomb = gzip.compress(b"0" * (10 * 1024 * 1024))
        assert len(bomb) < 20_000
        headers = {**phone.headers, "Content-Encoding": "gzip"}
        before = written_counts(session)
        started = time.perf_counter()
        r = client.post("/v1/sync/push", content=bomb, headers=headers)
        elapsed = time.perf_counter() - started
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
        assert elapsed < 1.0
        assert written_counts(session) == before

    def test_plain_body_over_the_cap(self, client: TestClient, phone: Phone) -> None:
        r = client.post(
            "/v1/sync/push", content=b" " * (MAX_PUSH_BYTES + 5000), headers=phone.headers
        )
        assert r.status_code == 413

    def test_201_events(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        events = [{"event_id": str(uuid.uuid4())} for _ in range(201)]
        r = push(client, phone, events)
        assert (r.status_code, r.json()["error"]["code"]) == (413, "too_many_events")
        del c

    def test_protocol_2_and_newer_type_version_are_426_with_nothing_written(
        self, client: TestClient, session: Session, phone: Phone, make_client
    ) -> None:
        c = make_client(collector=phone.user)
        before = written_counts(session)
        r = push(client, phone, [payment(phone, c.id, "10.00")], protocol=2)
        assert (r.status_code, r.json()["error"]["code"]) == (426, "protocol_unsupported")
        newer = {**payment(phone, c.id, "10.00"), "type_version": 2}
        r = push(client, phone, [payment(phone, c.id, "10.00"), newer])
        assert (r.status_code, r.json()["error"]["code"]) == (426, "type_version_unsupported")
        assert written_counts(session) == before

    def test_bad_json(self, client: TestClient, phone: Phone) -> None:
        r = client.post("/v1/sync/push", content=b"{nope", headers=phone.headers)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_json")

    def test_device_id_of_another_device_is_403(
        self, client: TestClient, session: Session, phone: Phone, make_client, make_user
    ) -> None:
        other = register_phone(client, make_user("collector"))
        c = make_client(collector=phone.user)
        before = written_counts(session)
        r = push(client, phone, [payment(phone, c.id, "10.00")], device_id=other.device_id)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "device_mismatch")
        assert written_counts(session) == before

    def test_user_token_and_revoked_device_are_401(
        self, client: TestClient, session: Session, make_user, make_client
    ) -> None:
        login = make_user("collector")
        phone = register_phone(client, login)
        c = make_client(collector=phone.user)
        before = written_counts(session)
        events = [payment(phone, c.id, "10.00")]
        r = client.post("/v1/sync/push", json=body(phone, events), headers=login.headers)
        assert r.status_code == 401
        admin = make_user("admin")
        revoked = client.post(f"/v1/devices/{phone.device_id}/revoke", headers=admin.headers)
        assert revoked.status_code == 200, revoked.text
        assert push(client, phone, events).status_code == 401
        assert written_counts(session) == before


def test_a_push_losing_its_race_twice_is_retryable_not_a_500(
    client: TestClient, session: Session, phone: Phone, make_client, monkeypatch
) -> None:
    """Past the one retry in a new transaction (tests/server/test_sync_push_race.py), the phone
    is told to retry later: 429 with Retry-After, nothing written."""
    from sqlalchemy.exc import IntegrityError

    from server.services import syncing

    calls: list[int] = []

    def always_loses(*args: object, **kwargs: object) -> None:
        calls.append(1)
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr(syncing, "push", always_loses)
    c = make_client(collector=phone.user)
    before = written_counts(session)
    r = push(client, phone, [payment(phone, c.id, "10.00")])
    assert (r.status_code, r.headers["Retry-After"]) == (429, "1")
    assert r.json()["error"]["code"] == "push_in_progress"
    assert len(calls) == 2
    assert written_counts(session) == before


class TestChangeLog:
    def test_touched_clients_and_held_events_get_changes_after_the_events_seqs(
        self, client: TestClient, session: Session, phone: Phone, make_client, make_user
    ) -> None:
        mine, untouched = make_client(collector=phone.user), make_client(collector=phone.user)
        closed = make_client(collector=phone.user, status="closed")
        other_user = make_user("collector").user
        theirs = make_client(collector=other_user)
        events = [
            payment(phone, mine.id, "1000.00"),
            visit(phone, theirs.id),
            promise(phone, closed.id, "5000.00"),
            payment(phone, uuid.uuid4(), "700.00"),  # unknown client: suspense, no client row
        ]
        results = push(client, phone, events).json()["results"]
        last_event_seq = max(r["server_seq"] for r in results)
        rows = session.scalars(select(ChangeLog).order_by(ChangeLog.seq)).all()
        puts = {(r.user_id, r.entity_id) for r in rows if r.entity == "client"}
        assert puts == {
            (phone.user.id, mine.id),
            (phone.user.id, closed.id),
            (other_user.id, theirs.id),
        }
        assert untouched.id not in {r.entity_id for r in rows}
        held = [(r.entity_id, r.data) for r in rows if r.entity == "event_status"]
        assert held == [
            (uuid.UUID(events[1]["event_id"]), {"status": "held", "note": "client_reassigned"}),
            (uuid.UUID(events[2]["event_id"]), {"status": "held", "note": "client_closed"}),
            (uuid.UUID(events[3]["event_id"]), {"status": "held", "note": "client_unknown"}),
        ]
        assert all(r.seq > last_event_seq and r.op == "put" for r in rows)
        # A retry changes nothing: no new seqs for duplicates.
        push(client, phone, events)
        session.expire_all()
        assert [r.seq for r in session.scalars(select(ChangeLog).order_by(ChangeLog.seq))] == [
            r.seq for r in rows
        ]
