from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.allocation import Allocation, OpenInvoice, allocate_payment

A = OpenInvoice("A", date(2026, 1, 10), Decimal("100000.00"), "FE-2")
B = OpenInvoice("B", date(2026, 2, 10), Decimal("250000.00"), "FE-3")
C = OpenInvoice("C", date(2025, 12, 1), Decimal("50000.00"), "FE-1")
PAID = OpenInvoice("P", date(2025, 1, 1), Decimal("0.00"), "FE-0")


def parts(result: list[Allocation[str]]) -> list[tuple[str | None, str]]:
    return [(a.key, str(a.amount)) for a in result]


class TestWorkedExamples:
    def test_oldest_due_first(self) -> None:
        assert parts(allocate_payment(Decimal(200000), [A, B, C])) == [
            ("C", "50000.00"),
            ("A", "100000.00"),
            ("B", "50000.00"),
        ]

    def test_overpayment_stays_as_credit(self) -> None:
        assert parts(allocate_payment(Decimal("500000.50"), [A, B, C, PAID])) == [
            ("C", "50000.00"),
            ("A", "100000.00"),
            ("B", "250000.00"),
            (None, "100000.50"),
        ]

    def test_no_open_invoices_is_all_credit(self) -> None:
        assert parts(allocate_payment(Decimal(1000), [])) == [(None, "1000.00")]
        assert parts(allocate_payment(Decimal(1000), [PAID])) == [(None, "1000.00")]

    def test_chosen_invoices_in_the_chosen_order(self) -> None:
        assert parts(allocate_payment(Decimal(300000), [A, B, C], chosen=["B", "A"])) == [
            ("B", "250000.00"),
            ("A", "50000.00"),
        ]

    def test_chosen_invoices_are_not_spread_to_others(self) -> None:
        # The rest of a payment for invoice B stays as credit; it does not pay C.
        assert parts(allocate_payment(Decimal(300000), [A, B, C], chosen=["B"])) == [
            ("B", "250000.00"),
            (None, "50000.00"),
        ]

    def test_same_due_date_goes_by_number(self) -> None:
        first = OpenInvoice("x", date(2026, 1, 1), Decimal(10), "FE-1")
        second = OpenInvoice("y", date(2026, 1, 1), Decimal(10), "FE-2")
        assert parts(allocate_payment(Decimal(15), [second, first])) == [
            ("x", "10.00"),
            ("y", "5.00"),
        ]

    @pytest.mark.parametrize("amount", [Decimal(0), Decimal(-5), Decimal("0.004")])
    def test_payment_must_be_positive(self, amount: Decimal) -> None:
        with pytest.raises(ValueError, match="positive"):
            allocate_payment(amount, [A])


@st.composite
def invoices(draw: st.DrawFn) -> list[OpenInvoice[int]]:
    count = draw(st.integers(0, 8))
    return [
        OpenInvoice(
            key,
            draw(st.dates(date(2024, 1, 1), date(2026, 12, 31))),
            Decimal(draw(st.integers(0, 2_000_000))) / 100,
            f"FE-{draw(st.integers(1, 99)):02d}",
        )
        for key in range(count)
    ]


AMOUNTS = st.integers(1, 10_000_000).map(lambda cents: Decimal(cents) / 100)


def _sort_key(invoice: OpenInvoice[int]) -> tuple[date, str]:
    return (invoice.due_date, invoice.number)


@given(AMOUNTS, invoices())
def test_oldest_first_properties(amount: Decimal, open_invoices: list[OpenInvoice[int]]) -> None:
    result = allocate_payment(amount, open_invoices)
    by_key = {i.key: i for i in open_invoices}
    got = {a.key: a.amount for a in result}
    assert sum(got.values()) == amount  # exactly, to the cent
    assert len(got) == len(result)  # no key twice
    assert all(a.amount > 0 for a in result)
    for key, part in got.items():
        if key is not None:
            assert part <= by_key[key].balance
    # Credit only when every open invoice is paid in full.
    total_open = sum((i.balance for i in open_invoices if i.balance > 0), Decimal(0))
    assert got.get(None, Decimal(0)) == max(amount - total_open, Decimal(0))
    # An invoice gets money only once every invoice due before it is paid in full.
    for key in got:
        if key is None:
            continue
        for older in open_invoices:
            if _sort_key(older) < _sort_key(by_key[key]) and older.balance > 0:
                assert got.get(older.key) == older.balance


@given(AMOUNTS, invoices(), st.data())
def test_chosen_properties(
    amount: Decimal, open_invoices: list[OpenInvoice[int]], data: st.DataObject
) -> None:
    keys = [i.key for i in open_invoices]
    chosen = data.draw(st.permutations(keys).flatmap(lambda p: st.just(p[: len(p) // 2 + 1])))
    result = allocate_payment(amount, open_invoices, chosen=chosen)
    assert sum(a.amount for a in result) == amount
    paid_keys = [a.key for a in result if a.key is not None]
    assert set(paid_keys) <= set(chosen)
    # Filled in the chosen order: every chosen invoice before a paid one is paid in full.
    by_key = {i.key: i for i in open_invoices}
    got = {a.key: a.amount for a in result}
    for key in paid_keys:
        for earlier in chosen[: chosen.index(key)]:
            if by_key[earlier].balance > 0:
                assert got.get(earlier) == by_key[earlier].balance
