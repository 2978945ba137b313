"""Amounts a balance cannot hold: a payment above MAX_FIELD_PAYMENT, or one that would take a
client's balance past MAX_AMOUNT, goes to suspense held `amount_implausible` (money is never
refused, only held), so neither push nor pull can fail for ever on an out-of-range balance."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import LedgerEntry, SuspenseEntry
from server.services import ledger
from shared.money import CENT, MAX_AMOUNT, MAX_FIELD_PAYMENT
from tests.server.sync_helpers import (
    MakeUser,
    check_invariants,
    invoice,
    payment,
    push,
    register_phone,
    statuses,
    void,
)

D = Decimal


def _money_of(session: Session, event: dict[str, object]) -> tuple[bool, Decimal | None]:
    """(posted to the ledger?, amount in suspense)."""
    session.expire_all()
    event_id = uuid.UUID(str(event["event_id"]))
    entry = session.scalar(select(LedgerEntry.id).where(LedgerEntry.event_id == event_id))
    parked = session.scalar(select(SuspenseEntry.amount).where(SuspenseEntry.event_id == event_id))
    return entry is not None, parked


def test_a_payment_above_the_field_cap_is_held_in_suspense(
    client: TestClient, session: Session, make_user: MakeUser, make_client: Any
) -> None:
    phone = register_phone(client, make_user("collector"))
    c = make_client(collector=phone.user)
    invoice(session, c, "F-1", date(2026, 10, 31), "100000.00")
    big = payment(phone, c.id, str(MAX_FIELD_PAYMENT + CENT))
    at_cap = payment(phone, c.id, str(MAX_FIELD_PAYMENT))
    r = push(client, phone, [big, at_cap, void(phone, c.id, big["event_id"])])
    assert statuses(r) == [
        ("held", "amount_implausible"),
        ("applied", None),
        ("held", "payment_in_suspense"),
    ]
    assert _money_of(session, big) == (False, MAX_FIELD_PAYMENT + CENT)
    assert _money_of(session, at_cap) == (True, None)
    session.refresh(c)
    assert c.balance == D("100000.00") - MAX_FIELD_PAYMENT
    check_invariants(session)


def test_a_payment_that_would_take_the_balance_out_of_range_is_held(
    client: TestClient, session: Session, make_user: MakeUser, make_client: Any
) -> None:
    """Counted within the chunk: each payment sees the balance the earlier ones left."""
    phone = register_phone(client, make_user("collector"))
    c = make_client(collector=phone.user)
    ledger.post_adjustment(
        session,
        client_id=c.id,
        invoice_id=None,
        amount=-(MAX_AMOUNT - D("50.00")),
        effective_date=date(2026, 11, 1),
        reason="saldo a favor",
        source="manual",
    )
    session.commit()
    events = [payment(phone, c.id, a) for a in ("100.00", "40.00", "20.00", "10.00")]
    r = push(client, phone, events)
    assert statuses(r) == [
        ("held", "amount_implausible"),
        ("applied", None),
        ("held", "amount_implausible"),
        ("applied", None),
    ]
    session.refresh(c)
    assert c.balance == -MAX_AMOUNT
    check_invariants(session)
    again = push(client, phone, events)  # the phone's retry after a lost response: no 500
    assert [s for s, _ in statuses(again)] == ["duplicate"] * 4


def test_pull_of_a_scope_whose_balances_add_up_past_max_amount(
    client: TestClient, session: Session, make_user: MakeUser, make_client: Any
) -> None:
    """Each balance in range, their sum (the scope checksum) is not: still a 200."""
    phone = register_phone(client, make_user("collector"))
    for n in range(3):
        c = make_client(collector=phone.user)
        invoice(session, c, f"F-{n}", date(2026, 10, 31), str(MAX_AMOUNT / 2))
    r = client.get("/v1/sync/pull", headers=phone.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert D(body["scope_checksum"]["balance_sum"]) == MAX_AMOUNT * D("1.5")
    assert len(body["changes"]) == 3 and not body["has_more"]
