"""The set-based chunk apply against a sequential model: payments and voids to clients with open
invoices, several to the same client in one chunk, voids of payments from earlier chunks or
earlier in the same chunk, chosen invoices, retries. After every push the statuses and every
invoice and client balance equal what posting the events one by one, in chunk order, gives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Client, Invoice
from shared.allocation import OpenInvoice, allocate_payment
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
ZERO = D("0.00")
AMOUNTS = (D("100000.00"), D("200000.00"), D("150000.00"))

pay = st.tuples(
    st.just("pay"), st.integers(0, 1), st.integers(1, 300).map(lambda k: D(k * 1000)), st.booleans()
)
void_op = st.tuples(st.just("void"), st.integers(0, 50))
chunks = st.lists(
    st.tuples(st.lists(st.one_of(pay, pay, void_op), min_size=1, max_size=8), st.booleans()),
    min_size=1,
    max_size=4,
)


@dataclass
class Model:
    """Balances posted one event at a time, in chunk order."""

    invoices: dict[uuid.UUID, list[tuple[uuid.UUID, date, str]]]  # client -> (id, due, number)
    balances: dict[uuid.UUID, Decimal]
    clients: dict[uuid.UUID, Decimal]
    posted: dict[str, tuple[uuid.UUID, list[tuple[uuid.UUID | None, Decimal]]]] = field(
        default_factory=dict
    )
    voided: set[str] = field(default_factory=set)

    def pay(self, event_id: str, client_id: uuid.UUID, amount: Decimal, chosen: str | None) -> str:
        rows = [r for r in self.invoices[client_id] if self.balances[r[0]] > ZERO]
        opened = [OpenInvoice(i, due, self.balances[i], n) for i, due, n in rows]
        keys = [i for i, _, n in rows if n == chosen] if chosen else None
        parts = [(p.key, p.amount) for p in allocate_payment(amount, opened, keys)]
        self._move(client_id, [(k, -a) for k, a in parts])
        self.posted[event_id] = (client_id, [(k, -a) for k, a in parts])
        return "applied"

    def void(self, target: str) -> str:
        if target not in self.posted:
            return "payment_not_found"
        if target in self.voided:
            return "already_voided"
        client_id, parts = self.posted[target]
        self._move(client_id, [(k, -a) for k, a in parts])
        self.voided.add(target)
        return "applied"

    def _move(self, client_id: uuid.UUID, parts: list[tuple[uuid.UUID | None, Decimal]]) -> None:
        for key, amount in parts:
            self.clients[client_id] += amount
            if key is not None:
                self.balances[key] += amount


def test_chunks_post_like_one_event_at_a_time(
    client: TestClient, session: Session, make_user: MakeUser, make_client: Any
) -> None:
    phone = register_phone(client, make_user("collector"))

    @settings(
        max_examples=max(10, settings().max_examples // 5),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(plan=chunks)
    def run(plan: list[tuple[list[tuple[Any, ...]], bool]]) -> None:
        targets = [make_client(collector=phone.user) for _ in range(2)]
        model = Model({}, {}, {})
        for c in targets:
            model.invoices[c.id] = []
            model.clients[c.id] = ZERO
            for n, amount in enumerate(AMOUNTS):
                due = date(2026, 9, 30) + timedelta(days=30 * n)
                inv = invoice(session, c, f"F-{uuid.uuid4().hex[:10]}", due, str(amount))
                model.invoices[c.id].append((inv.id, due, inv.number))
                model.balances[inv.id] = amount
                model.clients[c.id] += amount
        payments: list[str] = []
        for ops, retry in plan:
            events, expected = [], []
            for op in ops:
                if op[0] == "pay":
                    _, who, amount, choose_last = op
                    c = targets[who]
                    chosen = model.invoices[c.id][-1][2] if choose_last else None
                    extra = {"payload": {"invoice_numbers": [chosen]}} if chosen else {}
                    e = payment(phone, c.id, str(amount), **extra)
                    payments.append(e["event_id"])
                    expected.append(model.pay(e["event_id"], c.id, amount, chosen))
                elif payments:
                    target = payments[op[1] % len(payments)]
                    e = void(phone, targets[0].id, target)
                    expected.append(model.void(target))
                else:
                    e = void(phone, targets[0].id, str(uuid.uuid4()))
                    expected.append("payment_not_found")
                events.append(e)
            got = statuses(push(client, phone, events))
            assert [reason or status for status, reason in got] == expected
            if retry:  # a lost response: the same chunk again changes nothing
                assert {s for s, _ in statuses(push(client, phone, events))} == {"duplicate"}
            session.expire_all()
            ids = list(model.balances)
            stored = dict(
                session.execute(
                    select(Invoice.id, Invoice.balance).where(Invoice.id.in_(ids))
                ).all()
            )
            assert stored == model.balances
            for c in targets:
                assert session.get(Client, c.id).balance == model.clients[c.id]  # type: ignore[union-attr]
        check_invariants(session)

    run()
