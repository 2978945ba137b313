"""The ledger's proof: its rules on worked examples, then a Hypothesis state machine that drives
the real services on the database (SQLite and PostgreSQL) with random charges, payments,
adjustments and reversals, checking after every step that the projections equal what the entries
add up to."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Client, Invoice, LedgerAllocation, LedgerEntry
from server.repositories import ledger as ledger_repo
from server.services import ledger
from server.services.access import Actor
from server.services.statements import client_statement
from shared.errors import Conflict, InvalidInput
from shared.money import ZERO

D = Decimal
OFFICE = Actor(user_id=uuid.uuid4(), username="auditor", role="admin")


def _client(session: Session, code: str | None = None) -> Client:
    client = Client(code=code or f"L-{uuid.uuid4().hex[:10]}", name="Cliente del libro")
    session.add(client)
    session.flush()
    return client


def _invoice(session: Session, client: Client, number: str, due: date, amount: str) -> Invoice:
    invoice = Invoice(client_id=client.id, number=number, due_date=due, amount=D(amount))
    ledger.post_charge(session, invoice, source="manual")
    return invoice


def _balances(session: Session, client: Client) -> dict[str, Decimal]:
    rows = session.execute(
        select(Invoice.number, Invoice.balance).where(Invoice.client_id == client.id)
    ).all()
    return dict(rows)


def _client_balance(session: Session, client: Client) -> Decimal:
    balance = session.scalar(select(Client.balance).where(Client.id == client.id))
    assert balance is not None
    return balance


def _allocations(session: Session, entry: LedgerEntry) -> list[tuple[str | None, Decimal]]:
    rows = session.execute(
        select(Invoice.number, LedgerAllocation.amount)
        .outerjoin(Invoice, Invoice.id == LedgerAllocation.invoice_id)
        .where(LedgerAllocation.entry_id == entry.id)
        .order_by(LedgerAllocation.id)
    ).all()
    return [(number, amount) for number, amount in rows]


class TestWorkedExamples:
    def test_charge_raises_client_and_invoice(self, session: Session) -> None:
        client = _client(session)
        invoice = _invoice(session, client, "W-1", date(2025, 1, 31), "1234.56")
        assert _balances(session, client) == {"W-1": D("1234.56")}
        assert _client_balance(session, client) == D("1234.56")
        entry = ledger_repo.entries_for_client(session, client.id)[0]
        assert (entry.kind, entry.effective_date, entry.reason) == (
            "charge",
            date(2025, 1, 31),  # no issue date: charged on the due date
            "Factura W-1",
        )
        assert _allocations(session, entry) == [("W-1", D("1234.56"))]
        assert invoice.id is not None

    def test_payment_oldest_first_then_credit(self, session: Session) -> None:
        client = _client(session)
        _invoice(session, client, "W-2", date(2025, 3, 1), "50.00")
        _invoice(session, client, "W-1", date(2025, 2, 1), "100.00")
        payment = ledger.post_payment(
            session, client_id=client.id, amount=D(120), effective_date=date(2025, 3, 5),
            source="sync",
        )  # fmt: skip
        assert payment.amount == D("-120.00")
        assert _allocations(session, payment) == [("W-1", D("-100.00")), ("W-2", D("-20.00"))]
        over = ledger.post_payment(
            session, client_id=client.id, amount=D(45), effective_date=date(2025, 3, 6),
            source="sync",
        )  # fmt: skip
        assert _allocations(session, over) == [("W-2", D("-30.00")), (None, D("-15.00"))]
        assert _balances(session, client) == {"W-1": D("0.00"), "W-2": D("0.00")}
        assert _client_balance(session, client) == D("-15.00")

    def test_chosen_invoices_and_the_rest_as_credit(self, session: Session) -> None:
        client = _client(session)
        _invoice(session, client, "W-1", date(2025, 2, 1), "100.00")
        _invoice(session, client, "W-2", date(2025, 3, 1), "50.00")
        payment = ledger.post_payment(
            session, client_id=client.id, amount=D(80), effective_date=date(2025, 3, 5),
            source="sync", invoice_numbers=["W-2", "NO-EXISTE"],
        )  # fmt: skip
        # The collector chose W-2: it takes 50, the other 30 waits as credit (W-1 untouched).
        assert _allocations(session, payment) == [("W-2", D("-50.00")), (None, D("-30.00"))]
        assert _balances(session, client) == {"W-1": D("100.00"), "W-2": D("0.00")}

    def test_unknown_chosen_invoices_fall_back_to_oldest_first(self, session: Session) -> None:
        client = _client(session)
        _invoice(session, client, "W-1", date(2025, 2, 1), "100.00")
        payment = ledger.post_payment(
            session, client_id=client.id, amount=D(10), effective_date=date(2025, 3, 5),
            source="sync", invoice_numbers=["NO-EXISTE"],
        )  # fmt: skip
        assert _allocations(session, payment) == [("W-1", D("-10.00"))]

    def test_reversal_undoes_allocation_by_allocation(self, session: Session) -> None:
        client = _client(session)
        _invoice(session, client, "W-1", date(2025, 2, 1), "100.00")
        payment = ledger.post_payment(
            session, client_id=client.id, amount=D(130), effective_date=date(2025, 3, 5),
            source="sync",
        )  # fmt: skip
        reversal = ledger.reverse_entry(
            session, payment.id, reason="Consignación rechazada", effective_date=date(2025, 3, 9),
            source="manual",
        )  # fmt: skip
        assert (reversal.kind, reversal.amount, reversal.reverses_id) == (
            "reversal",
            D("130.00"),
            payment.id,
        )
        assert _allocations(session, reversal) == [("W-1", D("100.00")), (None, D("30.00"))]
        assert _balances(session, client) == {"W-1": D("100.00")}
        assert _client_balance(session, client) == D("100.00")

    def test_adjustment_on_invoice_and_on_client(self, session: Session) -> None:
        client = _client(session)
        invoice = _invoice(session, client, "W-1", date(2025, 2, 1), "100.00")
        ledger.post_adjustment(
            session, client_id=client.id, invoice_id=invoice.id, amount=D("-25.50"),
            effective_date=date(2025, 2, 10), reason="Glosa aceptada", source="manual",
        )  # fmt: skip
        ledger.post_adjustment(
            session, client_id=client.id, invoice_id=None, amount=D("5"),
            effective_date=date(2025, 2, 11), reason="Intereses", source="manual",
        )  # fmt: skip
        assert _balances(session, client) == {"W-1": D("74.50")}
        assert _client_balance(session, client) == D("79.50")

    def test_refusals(self, session: Session) -> None:
        client, other = _client(session), _client(session)
        invoice = _invoice(session, client, "W-1", date(2025, 2, 1), "100.00")
        day = date(2025, 2, 2)
        cases: list[tuple[type[Exception], str, object]] = [
            (InvalidInput, "invalid_amount", lambda: _invoice(session, client, "W-0", day, "0")),
            (InvalidInput, "invalid_amount", lambda: ledger.post_payment(
                session, client_id=client.id, amount=D("-1"), effective_date=day, source="sync")),
            (InvalidInput, "invalid_amount", lambda: ledger.post_adjustment(
                session, client_id=client.id, invoice_id=None, amount=D("0.001"),
                effective_date=day, reason="x", source="manual")),
            (InvalidInput, "reason_required", lambda: ledger.post_adjustment(
                session, client_id=client.id, invoice_id=None, amount=D(1), effective_date=day,
                reason="  ", source="manual")),
            (InvalidInput, "invoice_not_found", lambda: ledger.post_adjustment(
                session, client_id=other.id, invoice_id=invoice.id, amount=D(1),
                effective_date=day, reason="x", source="manual")),
            (InvalidInput, "entry_not_found", lambda: ledger.reverse_entry(
                session, uuid.uuid4(), reason="x", effective_date=day, source="manual")),
        ]  # fmt: skip
        for error, code, call in cases:
            with pytest.raises(error) as info:
                call()  # type: ignore[operator]
            assert getattr(info.value, "code", None) == code

    def test_each_entry_is_reversed_at_most_once(self, session: Session) -> None:
        client = _client(session)
        _invoice(session, client, "W-1", date(2025, 2, 1), "100.00")
        payment = ledger.post_payment(
            session, client_id=client.id, amount=D(10), effective_date=date(2025, 2, 2),
            source="sync",
        )  # fmt: skip
        kwargs = {"reason": "error", "effective_date": date(2025, 2, 3), "source": "manual"}
        reversal = ledger.reverse_entry(session, payment.id, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(Conflict) as info:
            ledger.reverse_entry(session, payment.id, **kwargs)  # type: ignore[arg-type]
        assert info.value.code == "already_reversed"
        with pytest.raises(Conflict) as info:
            ledger.reverse_entry(session, reversal.id, **kwargs)  # type: ignore[arg-type]
        assert info.value.code == "cannot_reverse_reversal"
        other = ledger.post_payment(
            session, client_id=client.id, amount=D(1), effective_date=date(2025, 2, 4),
            source="sync",
        )  # fmt: skip
        with pytest.raises(InvalidInput) as refused:
            ledger.reverse_entry(session, other.id, **{**kwargs, "reason": " "})  # type: ignore[arg-type]
        assert refused.value.code == "reason_required"


# --- the state machine ----------------------------------------------------------------------------

AMOUNTS = st.integers(min_value=1, max_value=50_000_000).map(lambda cents: D(cents) / 100)
SIGNED = (
    st.integers(min_value=-5_000_000, max_value=5_000_000)
    .filter(bool)
    .map(lambda cents: D(cents) / 100)
)
CLIENTS = 2


def test_ledger_state_machine(session: Session) -> None:
    class LedgerMachine(RuleBasedStateMachine):
        """Two clients; each example runs inside a savepoint that is rolled back at the end."""

        def __init__(self) -> None:
            super().__init__()
            self.savepoint = session.begin_nested()
            self.clients = [_client(session) for _ in range(CLIENTS)]
            self.invoices: list[list[Invoice]] = [[] for _ in range(CLIENTS)]
            self.reversible: list[uuid.UUID] = []
            self.expected = [ZERO] * CLIENTS  # the model: what each client should owe
            self.day = date(2025, 1, 1)

        def _next_day(self) -> date:
            self.day += timedelta(days=1)
            return self.day

        def _open(self, c: int) -> dict[uuid.UUID, tuple[date, str, Decimal]]:
            rows = session.execute(
                select(Invoice.id, Invoice.due_date, Invoice.number, Invoice.balance).where(
                    Invoice.client_id == self.clients[c].id
                )
            ).all()
            return {r[0]: (r[1], r[2], r[3]) for r in rows}

        @rule(c=st.integers(0, CLIENTS - 1), amount=AMOUNTS, due_in=st.integers(-90, 60))
        def charge(self, c: int, amount: Decimal, due_in: int) -> None:
            day = self._next_day()
            invoice = Invoice(
                client_id=self.clients[c].id,
                number=f"H-{uuid.uuid4().hex[:12]}",
                issue_date=day,
                due_date=day + timedelta(days=due_in),
                amount=amount,
            )
            entry = ledger.post_charge(session, invoice, source="manual")
            self.invoices[c].append(invoice)
            self.reversible.append(entry.id)
            self.expected[c] += amount

        def _pay(self, c: int, amount: Decimal, numbers: list[str] | None) -> None:
            before = self._open(c)
            entry = ledger.post_payment(
                session,
                client_id=self.clients[c].id,
                amount=amount,
                effective_date=self._next_day(),
                source="sync",
                invoice_numbers=numbers,
            )
            self.reversible.append(entry.id)
            self.expected[c] -= amount
            after = self._open(c)
            for key, (_, _, was) in before.items():
                now = after[key][2]
                # A payment only lowers open balances, and never below zero.
                assert (now == was) if was <= ZERO else (ZERO <= now <= was)
            allocated = {
                a.invoice_id: a.amount for a in ledger_repo.allocations_of(session, entry.id)
            }
            if numbers is None:
                # Oldest due first: an invoice is touched only once all older ones are settled.
                for target in allocated:
                    if target is None:
                        continue
                    for other, (due, number, was) in before.items():
                        if was > ZERO and (due, number) < before[target][:2]:
                            assert after[other][2] == ZERO
                if None in allocated:
                    assert all(balance <= ZERO for _, _, balance in after.values())

        @rule(c=st.integers(0, CLIENTS - 1), amount=AMOUNTS)
        def pay_oldest_first(self, c: int, amount: Decimal) -> None:
            self._pay(c, amount, None)

        @rule(
            c=st.integers(0, CLIENTS - 1),
            amount=AMOUNTS,
            picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=3),
        )
        def pay_chosen(self, c: int, amount: Decimal, picks: list[int]) -> None:
            everyone = [i.number for invoices in self.invoices for i in invoices]
            # Picks may name another client's invoice: those are ignored, never allocated.
            numbers = [everyone[p % len(everyone)] for p in picks] if everyone else ["NADA"]
            self._pay(c, amount, numbers)

        @rule(
            c=st.integers(0, CLIENTS - 1),
            amount=SIGNED,
            pick=st.one_of(st.none(), st.integers(0, 10**6)),
        )
        def adjust(self, c: int, amount: Decimal, pick: int | None) -> None:
            own = self.invoices[c]
            invoice_id = own[pick % len(own)].id if own and pick is not None else None
            entry = ledger.post_adjustment(
                session,
                client_id=self.clients[c].id,
                invoice_id=invoice_id,
                amount=amount,
                effective_date=self._next_day(),
                reason="Ajuste de conciliación",
                source="manual",
            )
            self.reversible.append(entry.id)
            self.expected[c] += amount

        @precondition(lambda self: bool(self.reversible))
        @rule(pick=st.integers(0, 10**6))
        def reverse(self, pick: int) -> None:
            entry_id = self.reversible.pop(pick % len(self.reversible))
            reversal = ledger.reverse_entry(
                session,
                entry_id,
                reason="Reverso",
                effective_date=self._next_day(),
                source="manual",
            )
            c = next(i for i, cl in enumerate(self.clients) if cl.id == reversal.client_id)
            self.expected[c] += reversal.amount

        @invariant()
        def projections_equal_the_entries(self) -> None:
            ids = [c.id for c in self.clients]
            entry_sums = dict(
                session.execute(
                    select(LedgerEntry.client_id, func.sum(LedgerEntry.amount))
                    .where(LedgerEntry.client_id.in_(ids))
                    .group_by(LedgerEntry.client_id)
                ).all()
            )
            for c, client in enumerate(self.clients):
                projected = _client_balance(session, client)
                assert projected == entry_sums.get(client.id, ZERO) == self.expected[c]

            alloc_sums = dict(
                session.execute(
                    select(LedgerAllocation.invoice_id, func.sum(LedgerAllocation.amount))
                    .join(Invoice, Invoice.id == LedgerAllocation.invoice_id)
                    .where(Invoice.client_id.in_(ids))
                    .group_by(LedgerAllocation.invoice_id)
                ).all()
            )
            for c in range(CLIENTS):
                for key, (_, _, balance) in self._open(c).items():
                    assert balance == alloc_sums[key]

            unbalanced = session.execute(
                select(LedgerEntry.id)
                .join(LedgerAllocation, LedgerAllocation.entry_id == LedgerEntry.id)
                .where(LedgerEntry.client_id.in_(ids))
                .group_by(LedgerEntry.id, LedgerEntry.amount)
                .having(func.sum(LedgerAllocation.amount) != LedgerEntry.amount)
            ).all()
            assert unbalanced == []

        @invariant()
        def statement_agrees(self) -> None:
            for c, client in enumerate(self.clients):
                statement = client_statement(session, OFFICE, client.id, as_of=self.day)
                assert statement.balance == self.expected[c]
                open_now = {
                    number: balance
                    for _, number, balance in self._open(c).values()
                    if balance != ZERO
                }
                assert {i.number: i.balance for i in statement.invoices} == open_now
                assert statement.balance == (
                    sum((i.balance for i in statement.invoices), ZERO) - statement.unapplied_credit
                )

        def teardown(self) -> None:
            self.savepoint.rollback()

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
