"""Payment allocation (domain.md): oldest due date first, unless invoices were chosen; whatever is
left over stays on the client as unapplied credit, never dropped."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

from shared.money import ZERO, money

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class OpenInvoice(Generic[K]):
    key: K
    due_date: date
    balance: Decimal
    number: str = ""


@dataclass(frozen=True)
class Allocation(Generic[K]):
    """`key` None is the client's unapplied credit (an overpayment)."""

    key: K | None
    amount: Decimal


def allocate_payment(
    amount: Decimal, invoices: Sequence[OpenInvoice[K]], chosen: Sequence[K] | None = None
) -> list[Allocation[K]]:
    """Split a positive payment over open invoices. Returns positive amounts that add up to
    `amount` exactly; the remainder (if any) is the last item, with key None."""
    remaining = money(amount)
    if remaining <= ZERO:
        raise ValueError("a payment allocates a positive amount")
    if chosen:
        order = {key: i for i, key in enumerate(chosen)}
        candidates = sorted((i for i in invoices if i.key in order), key=lambda i: order[i.key])
    else:
        candidates = sorted(invoices, key=lambda i: (i.due_date, i.number))
    result: list[Allocation[K]] = []
    for invoice in candidates:
        if remaining == ZERO:
            break
        balance = money(invoice.balance)
        if balance <= ZERO:
            continue
        part = min(balance, remaining)
        result.append(Allocation(invoice.key, part))
        remaining -= part
    if remaining > ZERO:
        result.append(Allocation(None, remaining))
    return result
