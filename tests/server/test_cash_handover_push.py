"""`cash.handed_over` through POST /v1/sync/push: always stored with the payments it names,
applied only when they are this collector's cash, not voided, not handed over before and add
up; otherwise held with the first problem's reason. Worked examples on both engines."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import CashHandover, HandoverPayment, ReviewItem
from sync.protocol import NO_CLIENT
from tests.server.sync_helpers import (
    MakeUser,
    Phone,
    check_invariants,
    event,
    payment,
    push,
    register_phone,
    statuses,
    void,
)

D = Decimal


def handover(
    phone: Phone,
    payments: list[Any],
    amount: str,
    *,
    method: str = "bank_deposit",
    reference: str = "BCO-778812",
) -> dict[str, Any]:
    ids = [p if isinstance(p, str) else p["event_id"] for p in payments]
    payload: dict[str, Any] = {
        "amount": amount,
        "method": method,
        "deposited_on": "2026-11-23",
        "payment_event_ids": ids,
    }
    if reference:
        payload["bank_reference"] = reference
    return event(phone, "cash.handed_over", NO_CLIENT, payload)


def stored(session: Session, e: dict[str, Any]) -> tuple[CashHandover, dict[str, Decimal]]:
    session.expire_all()
    hid = uuid.UUID(e["event_id"])
    row = session.get(CashHandover, hid)
    assert row is not None
    lines = session.scalars(select(HandoverPayment).where(HandoverPayment.handover_id == hid))
    return row, {str(p.payment_event_id): p.amount for p in lines}


@pytest.fixture
def phone(client: TestClient, make_user: MakeUser) -> Phone:
    return register_phone(client, make_user("collector"))


@pytest.fixture
def own(make_client: Any, phone: Phone) -> Any:
    return make_client(collector=phone.user)


def test_a_handover_that_adds_up_is_applied_and_stored(
    client: TestClient, session: Session, phone: Phone, own: Any
) -> None:
    a, b = payment(phone, own.id, "120000.00"), payment(phone, own.id, "30500.50")
    assert statuses(push(client, phone, [a, b])) == [("applied", None)] * 2
    h = handover(phone, [a, b], "150500.50")
    assert statuses(push(client, phone, [h])) == [("applied", None)]
    row, lines = stored(session, h)
    assert (row.status, row.hold_reason, row.amount, row.method, row.bank_reference) == (
        "pending",
        None,
        D("150500.50"),
        "bank_deposit",
        "BCO-778812",
    )
    assert (row.user_id, str(row.device_id), row.event_id) == (
        phone.user.id,
        phone.device_id,
        row.id,
    )
    assert lines == {a["event_id"]: D("120000.00"), b["event_id"]: D("30500.50")}
    # A retry is a duplicate: still one handover, the same two rows.
    assert statuses(push(client, phone, [h])) == [("duplicate", None)]
    assert stored(session, h)[1] == lines
    check_invariants(session)


def test_payments_earlier_in_the_same_chunk_count_later_ones_do_not(
    client: TestClient, session: Session, phone: Phone, own: Any
) -> None:
    a = payment(phone, own.id, "50000.00")
    later = payment(phone, own.id, "10000.00")
    ok = handover(phone, [a], "50000.00", method="office", reference="")
    early = handover(phone, [later], "10000.00", method="office", reference="")
    assert statuses(push(client, phone, [a, ok, early, later])) == [
        ("applied", None),
        ("applied", None),
        ("held", "payment_unknown"),
        ("applied", None),
    ]
    assert stored(session, early)[1] == {later["event_id"]: D("0.00")}
    check_invariants(session)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("mismatch", "handover_mismatch"),
        ("transfer", "payment_not_cash"),
        ("unknown", "payment_unknown"),
        ("someone_else", "payment_unknown"),
        ("twice", "payment_already_handed_over"),
        ("same_chunk_twice", "payment_already_handed_over"),
        ("repeated", "payment_repeated"),
        ("voided", "payment_voided"),
        ("no_reference", "reference_missing"),
    ],
)
def test_a_handover_that_does_not_add_up_is_held_not_lost(
    client: TestClient,
    session: Session,
    make_user: MakeUser,
    make_client: Any,
    phone: Phone,
    own: Any,
    case: str,
    reason: str,
) -> None:
    cash = payment(phone, own.id, "80000.00")
    transfer = payment(phone, own.id, "20000.00", payload={"method": "transfer"})
    assert statuses(push(client, phone, [cash, transfer])) == [("applied", None)] * 2
    before: list[dict[str, Any]] = []
    names: list[Any] = [cash]
    amount, reference = "80000.00", "BCO-1"
    if case == "mismatch":
        amount = "79000.00"
    elif case == "transfer":
        names, amount = [cash, transfer], "100000.00"
    elif case == "unknown":
        names = [cash, str(uuid.uuid4())]
    elif case == "someone_else":
        other = register_phone(client, make_user("collector"))
        theirs = payment(other, make_client(collector=other.user).id, "1000.00")
        assert statuses(push(client, other, [theirs])) == [("applied", None)]
        names, amount = [cash, theirs], "81000.00"
    elif case == "twice":
        first = handover(phone, [cash], "80000.00")
        assert statuses(push(client, phone, [first])) == [("applied", None)]
    elif case == "same_chunk_twice":
        before = [handover(phone, [cash], "80000.00")]
    elif case == "repeated":
        names = [cash, cash]
    elif case == "voided":
        before = [void(phone, own.id, cash["event_id"])]
    elif case == "no_reference":
        reference = ""
    h = handover(phone, names, amount, reference=reference)
    results = statuses(push(client, phone, [*before, h]))
    assert results[-1] == ("held", reason)
    assert all(r == ("applied", None) for r in results[:-1])
    row, lines = stored(session, h)
    assert (row.status, row.hold_reason, row.amount) == ("pending", reason, D(amount))
    assert cash["event_id"] in lines
    review = session.scalar(
        select(ReviewItem).where(ReviewItem.event_id == uuid.UUID(h["event_id"]))
    )
    assert review is not None and (review.kind, review.reason) == ("held_event", reason)
    check_invariants(session)


def test_a_held_payment_in_cash_can_be_handed_over(
    client: TestClient, session: Session, phone: Phone
) -> None:
    """Money at an unknown client sits in suspense: the collector still holds the cash."""
    parked = payment(phone, uuid.uuid4(), "45000.00")
    assert statuses(push(client, phone, [parked])) == [("held", "client_unknown")]
    h = handover(phone, [parked], "45000.00")
    assert statuses(push(client, phone, [h])) == [("applied", None)]
    check_invariants(session)


def test_cash_voided_in_suspense_is_no_longer_in_hand(
    client: TestClient, session: Session, phone: Phone
) -> None:
    """The void of money in suspense is held (no entry to reverse), yet the collector voided
    the receipt: that cash is neither in hand nor can it be handed over."""
    unknown = uuid.uuid4()
    parked = payment(phone, unknown, "45000.00")
    voided = void(phone, unknown, parked["event_id"])
    assert statuses(push(client, phone, [parked, voided])) == [
        ("held", "client_unknown"),
        ("held", "payment_in_suspense"),
    ]
    r = client.get("/v1/cash/in-hand", headers=phone.headers)
    assert r.status_code == 200, r.text
    assert r.json()["collectors"][0]["payments"] == []
    h = handover(phone, [parked], "45000.00")
    assert statuses(push(client, phone, [h])) == [("held", "payment_voided")]
    check_invariants(session)


def test_a_malformed_payment_is_no_cash(client: TestClient, session: Session, phone: Phone) -> None:
    """Evidence of a malformed payment (held invalid_payload) moved no money: not in hand, and a
    handover naming it names an unknown payment."""
    bad = payment(phone, uuid.uuid4(), "abc")
    assert statuses(push(client, phone, [bad])) == [("held", "invalid_payload")]
    r = client.get("/v1/cash/in-hand", headers=phone.headers)
    assert r.status_code == 200, r.text
    assert r.json()["collectors"][0]["payments"] == []
    h = handover(phone, [bad], "45000.00")
    assert statuses(push(client, phone, [h])) == [("held", "payment_unknown")]
    check_invariants(session)
