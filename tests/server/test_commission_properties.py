"""Properties of commission statements over random payments and reversals posted through the
ledger service: periods add up (a month's statements plus the next month's equal the two months'
together, since reversals count on their own day and each ISO week belongs to one month), a
reversal and its payment net to zero over a period holding both, and every line is priced by the
rules."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from server.db.models import Client, Invoice, User
from server.services import ledger
from server.services.commission_statements import Statement, statements
from shared.commissions import line_commission, load_rules
from shared.money import ZERO

NOV = (date(2026, 11, 1), date(2026, 11, 30))
DEC = (date(2026, 12, 1), date(2026, 12, 31))
RULES = load_rules()

amounts = st.integers(min_value=1, max_value=400_000_00).map(lambda c: Decimal(c) / 100)
days = st.integers(min_value=0, max_value=60).map(lambda d: NOV[0] + timedelta(days=d))
moves = st.lists(
    st.tuples(amounts, days, st.one_of(st.none(), st.integers(min_value=0, max_value=40))),
    min_size=1,
    max_size=8,
)


def _total(found: list[Statement], user: User) -> tuple[Decimal, Decimal, Decimal]:
    (s,) = [s for s in found if s.collector_id == user.id]
    return s.collected - s.reversed, s.commission, s.total


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=moves, dues=st.lists(st.integers(-200, 60), min_size=1, max_size=3))
def test_periods_add_up_and_reversals_net_out(
    session: Session, moves: list[tuple[Decimal, date, int | None]], dues: list[int]
) -> None:
    savepoint = session.begin_nested()
    try:
        _check(session, moves, dues)
    finally:
        savepoint.rollback()


def _check(session: Session, moves: list[Any], dues: list[int]) -> None:
    user = User(username=f"p-{uuid.uuid4().hex[:8]}", role="collector", password_hash="x")
    session.add(user)
    session.flush()
    client = Client(code=f"P-{uuid.uuid4().hex[:8]}", name="Propiedad", collector_id=user.id)
    session.add(client)
    session.flush()
    for i, offset in enumerate(dues):
        inv = Invoice(
            client_id=client.id,
            number=f"P-{uuid.uuid4().hex[:8]}-{i}",
            due_date=NOV[0] + timedelta(days=offset),
            amount=Decimal("300000.00"),
        )
        ledger.post_charge(session, inv, source="manual")
    reversed_in_union = Decimal(0)
    for amount, day, reverse_after in sorted(moves, key=lambda m: m[1]):
        entry = ledger.post_payment(
            session,
            client_id=client.id,
            amount=amount,
            effective_date=day,
            source="sync",
            event_id=uuid.uuid4(),
            reason="Recibo P-1",
            created_by=user.id,
        )
        if reverse_after is not None:
            ledger.reverse_entry(
                session,
                entry.id,
                reason="anulado",
                effective_date=day + timedelta(days=reverse_after),
                source="sync",
                created_by=user.id,
            )
    session.flush()

    nov, dec = statements(session, *NOV), statements(session, *DEC)
    both = statements(session, NOV[0], DEC[1])
    n, d, b = _total(nov, user), _total(dec, user), _total(both, user)
    assert tuple(x + y for x, y in zip(n, d, strict=True)) == b

    (union,) = [s for s in both if s.collector_id == user.id]
    for line in union.lines:
        priced = line_commission(RULES, abs(line.amount), line.bucket)
        assert line.commission == (priced if line.kind == "payment" else -priced)
    by_payment: dict[uuid.UUID, list[Any]] = {}
    for line in union.lines:
        by_payment.setdefault(line.payment_id, []).append(line)
    for lines in by_payment.values():
        if any(ln.kind == "reversal" for ln in lines):
            assert sum((ln.commission for ln in lines), ZERO) == ZERO
            assert sum((ln.amount for ln in lines), ZERO) == ZERO
            reversed_in_union += sum(ln.amount for ln in lines if ln.kind == "payment")
    assert union.reversed == reversed_in_union
