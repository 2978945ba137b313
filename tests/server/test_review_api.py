"""The review queue over HTTP: what a supervisor sees of each held event, conflict and flagged
visit; resolving (audited, never touching money, 404 / 409 / 422 with stable codes); posting
suspense money to the right client exactly once. On both engines."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Client, LedgerEntry, ReviewItem
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import (
    MakeUser,
    Phone,
    check_invariants,
    event,
    invoice,
    payment,
    promise,
    push,
    register_phone,
    statuses,
)

RECEIVED = datetime(2026, 11, 24, 15, 3, tzinfo=UTC)  # Tuesday 10:03 in Bogotá
DEVICE_TIME = "2026-11-24T10:00:00-05:00"
D = Decimal


@dataclass
class Queue:
    collector: Login
    supervisor: Login
    phone: Phone
    closed: Client
    home: Client
    unknown_id: uuid.UUID
    ids: dict[str, int]  # what -> review item id


@pytest.fixture
def queue(
    client: TestClient, session: Session, make_user: MakeUser, make_client, clock: FakeClock
) -> Queue:
    clock.now = RECEIVED
    collector = make_user("collector")
    phone = register_phone(client, collector)
    closed = make_client(collector=collector.user, status="closed", name="Droguería Cerrada")
    home = make_client(collector=collector.user, name="Tienda La 14", lat=4.65, lon=-74.06)
    unknown_id = uuid.uuid4()
    suspense = payment(phone, unknown_id, "80000.00", device_time=DEVICE_TIME)
    to_closed = payment(phone, closed.id, "50000.00", device_time=DEVICE_TIME)
    far = event(
        phone,
        "visit.recorded",
        home.id,
        {"outcome": "contacted", "lat": 4.66, "lon": -74.06, "accuracy_m": 15.0},
        device_time=DEVICE_TIME,
    )
    promised = promise(phone, home.id, "10000.00")
    assert statuses(push(client, phone, [suspense, to_closed, far, promised])) == [
        ("held", "client_unknown"),
        ("held", "client_closed"),
        ("applied", None),
        ("applied", None),
    ]
    other = {**promised, "payload": {**promised["payload"], "amount": "99999.00"}}
    assert statuses(push(client, phone, [other])) == [
        ("conflict", "same_event_id_different_content")
    ]
    items = session.scalars(select(ReviewItem).order_by(ReviewItem.id)).all()
    assert [(i.kind, i.reason) for i in items] == [
        ("held_event", "client_unknown"),
        ("held_event", "client_closed"),
        ("flagged_visit", "far_from_client"),
        ("conflict", "same_event_id_different_content"),
    ]
    ids = dict(zip(("suspense", "closed", "far", "conflict"), (i.id for i in items), strict=True))
    return Queue(collector, make_user("supervisor"), phone, closed, home, unknown_id, ids)


def listing(client: TestClient, q: Queue, **params: Any) -> dict[str, Any]:
    r = client.get("/v1/review", params=params, headers=q.supervisor.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def resolve(client: TestClient, q: Queue, item_id: int, **body: Any) -> Any:
    return client.post(f"/v1/review/{item_id}/resolve", json=body, headers=q.supervisor.headers)


def post_to(client: TestClient, q: Queue, item_id: int, client_id: uuid.UUID | str) -> Any:
    return client.post(
        f"/v1/review/{item_id}/post-to-client",
        json={"client_id": str(client_id), "note": "era la sucursal norte"},
        headers=q.supervisor.headers,
    )


class TestList:
    def test_what_a_supervisor_sees(self, client: TestClient, queue: Queue) -> None:
        body = listing(client, queue)
        assert body["total"] == 4
        suspense, closed, far, conflict = body["items"]
        user = queue.collector.user.username
        expected = {
            "kind": "held_event",
            "reason": "client_unknown",
            "status": "open",
            "event_type": "payment.collected",
            "collector": user,
            "client": {"id": str(queue.unknown_id), "code": None, "name": None},
            "amount": "80000.00",
            "money_in": "suspense",
            "resolutions": ["accepted", "followed_up"],
            "can_post_to_client": True,
        }
        assert {k: suspense[k] for k in expected} == expected
        assert suspense["event_time"].startswith("2026-11-24T15:00:00")
        assert (closed["amount"], closed["money_in"], closed["can_post_to_client"]) == (
            "50000.00",
            "client",
            False,
        )
        assert closed["client"]["name"] == "Droguería Cerrada"
        assert far["kind"] == "flagged_visit" and far["flags"] == ["far_from_client"]
        # 0.01° of latitude north of the client at 4.65° N: about 1,105.8 m.
        assert far["distance_m"] == pytest.approx(1105.8, abs=1)
        assert (far["accuracy_m"], far["amount"]) == (15.0, None)
        assert far["resolutions"] == ["justified", "not_justified"]
        assert conflict["kind"] == "conflict" and conflict["resolutions"] == ["acknowledged"]

    def test_filters(self, client: TestClient, queue: Queue, make_user: MakeUser) -> None:
        only = listing(client, queue, kind="flagged_visit")
        assert [i["id"] for i in only["items"]] == [queue.ids["far"]] and only["total"] == 1
        mine = listing(client, queue, collector=queue.collector.user.username)
        assert mine["total"] == 4
        assert listing(client, queue, collector=make_user("collector").user.username)["total"] == 0
        assert listing(client, queue, status="resolved")["items"] == []
        page = listing(client, queue, limit=2, offset=1)
        assert [i["id"] for i in page["items"]] == [queue.ids["closed"], queue.ids["far"]]
        assert page["total"] == 4

    def test_bad_filters(self, client: TestClient, queue: Queue) -> None:
        r = client.get("/v1/review", params={"kind": "lost"}, headers=queue.supervisor.headers)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_input")

    def test_collectors_may_not_read_it(self, client: TestClient, queue: Queue) -> None:
        r = client.get("/v1/review", headers=queue.collector.headers)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "insufficient_role")


class TestResolve:
    def test_resolve_records_who_when_what_and_audits(
        self, client: TestClient, session: Session, queue: Queue, clock: FakeClock
    ) -> None:
        clock.now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
        item_id = queue.ids["far"]
        r = resolve(client, queue, item_id, resolution="justified", note="edificio alto, GPS")
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["resolution"], body["note"]) == (
            "resolved",
            "justified",
            "edificio alto, GPS",
        )
        assert body["resolved_by"] == queue.supervisor.user.username
        assert body["resolved_at"].startswith("2026-11-25T14:00:00")
        assert body["resolutions"] == []
        audit = session.scalars(
            select(AuditLog).where(
                AuditLog.entity == "review_item", AuditLog.entity_id == str(item_id)
            )
        ).all()
        assert [(a.action, a.actor_id, a.details["resolution"]) for a in audit] == [
            ("review.resolve", queue.supervisor.user.id, "justified")
        ]
        assert listing(client, queue)["total"] == 3
        assert [i["id"] for i in listing(client, queue, status="resolved")["items"]] == [item_id]
        assert listing(client, queue, status="all")["total"] == 4

    def test_twice_is_409(self, client: TestClient, queue: Queue) -> None:
        item_id = queue.ids["conflict"]
        assert resolve(client, queue, item_id, resolution="acknowledged").status_code == 200
        again = resolve(client, queue, item_id, resolution="acknowledged")
        assert (again.status_code, again.json()["error"]["code"]) == (
            409,
            "review_already_resolved",
        )

    def test_unknown_item_is_404(self, client: TestClient, queue: Queue) -> None:
        r = resolve(client, queue, 987654321, resolution="accepted")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "review_item_not_found")
        r = client.get("/v1/review/987654321", headers=queue.supervisor.headers)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "review_item_not_found")

    def test_a_resolution_of_another_kind_is_422(self, client: TestClient, queue: Queue) -> None:
        r = resolve(client, queue, queue.ids["far"], resolution="accepted")
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_resolution")
        assert r.json()["error"]["details"]["allowed"] == ["justified", "not_justified"]
        # posted_to_client is the post-to-client action's, never chosen by hand.
        r = resolve(client, queue, queue.ids["suspense"], resolution="posted_to_client")
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_resolution")

    def test_resolving_held_money_moves_none(
        self, client: TestClient, session: Session, queue: Queue
    ) -> None:
        entries = session.scalar(select(func.count()).select_from(LedgerEntry))
        assert resolve(client, queue, queue.ids["closed"], resolution="accepted").status_code == 200
        assert (
            resolve(client, queue, queue.ids["suspense"], resolution="followed_up").status_code
            == 200
        )
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
        assert queue.closed.balance == D("-50000.00")
        check_invariants(session)


class TestPostToClient:
    def test_suspense_money_is_posted_once(
        self, client: TestClient, session: Session, queue: Queue, make_client, clock: FakeClock
    ) -> None:
        right = make_client(collector=queue.collector.user, name="Sucursal Norte")
        invoice(session, right, f"FE-{uuid.uuid4().hex[:6]}", date(2026, 10, 31), "60000.00")
        clock.now = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
        item_id = queue.ids["suspense"]
        r = post_to(client, queue, item_id, right.id)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["resolution"], body["money_in"]) == (
            "resolved",
            "posted_to_client",
            "client",
        )
        assert body["amount"] == "80000.00" and body["note"] == "era la sucursal norte"
        session.expire_all()
        # 60,000 invoice paid off, 20,000 left as credit.
        assert right.balance == D("-20000.00")
        entry = session.scalar(
            select(LedgerEntry).where(
                LedgerEntry.client_id == right.id, LedgerEntry.kind == "payment"
            )
        )
        assert entry is not None
        assert (entry.amount, entry.source, entry.effective_date, entry.created_by) == (
            D("-80000.00"),
            "manual",
            date(2026, 11, 26),
            queue.supervisor.user.id,
        )
        again = post_to(client, queue, item_id, right.id)
        assert (again.status_code, again.json()["error"]["code"]) == (
            409,
            "review_already_resolved",
        )
        audit = session.scalar(
            select(AuditLog).where(
                AuditLog.entity == "review_item", AuditLog.entity_id == str(item_id)
            )
        )
        assert audit is not None and audit.details["client_id"] == str(right.id)
        assert audit.details["amount"] == "80000.00"
        # Conservation still holds: what phones collected = sync entries + suspense rows.
        check_invariants(session)

    def test_only_money_in_suspense(self, client: TestClient, queue: Queue) -> None:
        r = post_to(client, queue, queue.ids["closed"], queue.home.id)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "not_in_suspense")
        r = post_to(client, queue, queue.ids["far"], queue.home.id)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "not_in_suspense")

    def test_to_an_unknown_client(self, client: TestClient, queue: Queue) -> None:
        r = post_to(client, queue, queue.ids["suspense"], uuid.uuid4())
        assert (r.status_code, r.json()["error"]["code"]) == (404, "client_not_found")
