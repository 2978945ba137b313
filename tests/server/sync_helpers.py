"""Helpers of the push tests: a registered device, event builders and the invariant checks."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import (
    Client,
    InboundEvent,
    Invoice,
    LedgerEntry,
    SuspenseEntry,
    User,
)
from server.repositories import ledger as ledger_repo
from server.services import ledger
from tests.server.conftest import Login

MakeUser = Callable[..., Login]
DEVICE_TIME = "2026-11-23T10:21:07-05:00"


@dataclass
class Phone:
    user: User
    device_id: str
    headers: dict[str, str]
    seq: int = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


def register_phone(client: TestClient, login: Login, nonce: str | None = None) -> Phone:
    r = client.post(
        "/v1/devices",
        json={"name": "Moto G", "install_nonce": nonce or f"install-{uuid.uuid4().hex}"},
        headers=login.headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return Phone(login.user, body["device_id"], {"Authorization": f"Bearer {body['device_token']}"})


def event(
    phone: Phone, kind: str, client_id: uuid.UUID | str, payload: dict[str, Any], **envelope: Any
) -> dict[str, Any]:
    return {
        "event_id": str(envelope.pop("event_id", uuid.uuid4())),
        "device_seq": envelope.pop("device_seq", None) or phone.next_seq(),
        "type": kind,
        "type_version": 1,
        "client_id": str(client_id),
        "device_time": envelope.pop("device_time", DEVICE_TIME),
        "payload": payload,
        **envelope,
    }


def payment(phone: Phone, client_id: uuid.UUID | str, amount: str, **kw: Any) -> dict[str, Any]:
    payload = {"amount": amount, "method": "cash", "receipt_no": f"K7Q-{phone.seq + 1:06d}"}
    payload.update(kw.pop("payload", {}))
    return event(phone, "payment.collected", client_id, payload, **kw)


def void(phone: Phone, client_id: uuid.UUID | str, payment_event_id: str) -> dict[str, Any]:
    payload = {"payment_event_id": payment_event_id, "reason": "recibo mal digitado"}
    return event(phone, "payment.voided", client_id, payload)


def visit(
    phone: Phone, client_id: uuid.UUID | str, outcome: str = "contacted", **envelope: Any
) -> dict[str, Any]:
    payload = {"outcome": outcome, "lat": 4.65, "lon": -74.06, "accuracy_m": 12.0, "notes": "ok"}
    return event(phone, "visit.recorded", client_id, payload, **envelope)


def promise(phone: Phone, client_id: uuid.UUID | str, amount: str) -> dict[str, Any]:
    return event(phone, "promise.made", client_id, {"amount": amount, "due_date": "2026-11-30"})


def body(phone: Phone, events: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    return {
        "protocol": 1,
        "device_id": phone.device_id,
        "app_version": "1.0.0",
        "events": events,
        **over,
    }


def push(client: TestClient, phone: Phone, events: list[dict[str, Any]], **over: Any) -> Any:
    return client.post("/v1/sync/push", json=body(phone, events, **over), headers=phone.headers)


def push_gzip(client: TestClient, phone: Phone, raw: bytes) -> Any:
    headers = {**phone.headers, "Content-Encoding": "gzip", "Content-Type": "application/json"}
    return client.post("/v1/sync/push", content=gzip.compress(raw), headers=headers)


def statuses(response: Any) -> list[tuple[str, str | None]]:
    assert response.status_code == 200, response.text
    return [(r["status"], r.get("reason")) for r in response.json()["results"]]


def invoice(session: Session, c: Client, number: str, due: date, amount: str) -> Invoice:
    inv = Invoice(client_id=c.id, number=number, due_date=due, amount=Decimal(amount))
    ledger.post_charge(session, inv, source="manual")
    session.commit()
    return inv


def written_counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(InboundEvent)) or 0,
        session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.source == "sync")
        )
        or 0,
        session.scalar(select(func.count()).select_from(SuspenseEntry)) or 0,
    )


def check_invariants(session: Session) -> None:
    """Exactly once, conservation and projections, over everything pushed so far."""
    session.expire_all()
    payments = [
        row
        for row in session.scalars(
            select(InboundEvent).where(InboundEvent.type == "payment.collected")
        )
        if row.reason != "invalid_payload"
    ]
    entries = session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == "payment", LedgerEntry.source == "sync")
    ).all()
    suspense = session.scalars(select(SuspenseEntry)).all()
    entry_ids = [e.event_id for e in entries]
    assert len(entry_ids) == len(set(entry_ids))  # no event posted twice
    assert set(entry_ids) | {s.event_id for s in suspense} == {p.event_id for p in payments}
    assert not set(entry_ids) & {s.event_id for s in suspense}
    pushed = sum((Decimal(p.raw["payload"]["amount"]) for p in payments), Decimal("0.00"))
    assert pushed == -sum((e.amount for e in entries), Decimal("0")) + sum(
        (s.amount for s in suspense), Decimal("0")
    )
    by_client = ledger_repo.recomputed_client_balances(session)
    for c in session.scalars(select(Client)):
        assert c.balance == by_client.get(c.id, Decimal("0.00"))
    by_invoice = ledger_repo.recomputed_invoice_balances(session)
    for inv in session.scalars(select(Invoice)):
        assert inv.balance == by_invoice.get(inv.id, Decimal("0.00"))


def raw_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
