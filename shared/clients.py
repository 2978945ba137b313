"""Clients, their invoices, statements and aging: the read models the server answers with and the
phone will show, plus the pure rules behind them.

Rules of this file: no I/O, no clock. Dates ("today", "as of") always arrive as arguments. Every
money field is `MoneyStr`: a `Decimal` in Python, a two-decimal JSON string on the wire.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Final, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from shared.aging import DEFAULT_EDGES, bucket_for, bucket_names, days_past_due
from shared.errors import DomainError
from shared.money import ZERO, money

Segment = Literal["grupo", "convenio_externo", "entidad_externa", "particular"]
SEGMENTS: Final[tuple[Segment, ...]] = get_args(Segment)
EntryKind = Literal["charge", "payment", "adjustment", "reversal"]
EntrySource = Literal["import", "sync", "manual"]
ClientStatus = Literal["active", "closed"]


def _refuse_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("money travels as a decimal string such as '250000.00', never a float")
    return value


def _to_money(value: Decimal) -> Decimal:
    try:
        return money(value)
    except DomainError as exc:  # pydantic reports ValueError as a validation error
        raise ValueError(exc.message) from exc


def _dump_money(value: Decimal) -> str:
    return format(money(value), "f")


MoneyStr = Annotated[
    Decimal,
    BeforeValidator(_refuse_float),
    AfterValidator(_to_money),
    PlainSerializer(_dump_money, return_type=str),
]
"""Exact money: parsed from a string or int (floats refused), quantized to cents, and serialized
as a string with two decimals (`"250000.00"`) in JSON and in `model_dump()` alike."""


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_text(value: object) -> object:
    """pydantic alone reads `"0"` as 1970-01-01 (a Unix time) and accepts datetimes at midnight:
    a date from a phone or a query string must be written as one, `YYYY-MM-DD`."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
"""A calendar date that parses only from `YYYY-MM-DD` (or a `date` built in Python)."""


class ReadModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class InvoiceLine(ReadModel):
    """One invoice with its balance and age as of a date."""

    number: str
    issue_date: date | None = None
    due_date: date
    amount: MoneyStr
    balance: MoneyStr
    bucket: str
    days_past_due: int


class ClientRef(ReadModel):
    id: uuid.UUID
    code: str
    name: str
    tax_id: str
    segment: Segment
    collector: str | None
    status: ClientStatus


class ClientSummary(ClientRef):
    """A row of the client list: where the client stands today."""

    balance: MoneyStr
    overdue_balance: MoneyStr
    worst_bucket: str | None  # None when nothing is open


class ClientPage(ReadModel):
    items: list[ClientSummary]
    total: int
    limit: int
    offset: int


class ClientDetail(ClientSummary):
    address: str
    city: str
    lat: float | None
    lon: float | None
    phones: list[str]
    channels: list[str]
    version: int
    unapplied_credit: MoneyStr
    invoices: list[InvoiceLine]


class AssignmentRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    collector: str | None  # a collector's username; null unassigns


class StatementEntry(ReadModel):
    id: uuid.UUID
    date: date
    kind: EntryKind
    amount: MoneyStr  # signed: positive raises the debt, negative lowers it
    running_balance: MoneyStr
    reason: str
    source: EntrySource
    invoice_numbers: list[str]
    reverses_id: uuid.UUID | None = None


class Statement(ReadModel):
    """Estado de cuenta: the client's open invoices, every entry and the balance at `as_of`."""

    client: ClientRef
    as_of: date
    invoices: list[InvoiceLine]
    entries: list[StatementEntry]
    balance: MoneyStr
    overdue_balance: MoneyStr
    unapplied_credit: MoneyStr  # overpayments not applied to any invoice, as a positive amount


class AgingTotals(ReadModel):
    totals: dict[str, MoneyStr]  # bucket -> sum of open invoice balances
    counts: dict[str, int]  # bucket -> number of open invoices
    total: MoneyStr
    invoice_count: int
    unapplied_credit: MoneyStr
    net_balance: MoneyStr  # total - unapplied_credit: what the clients owe, net
    # Open disputes (glosas) on the invoices of each bucket: still owed until decided, shown
    # apart; collectable = net_balance - disputed_total.
    disputed: dict[str, MoneyStr] = {}
    disputed_total: MoneyStr = ZERO
    collectable: MoneyStr = ZERO


class AgingRow(AgingTotals):
    collector: str | None = None
    segment: Segment | None = None


class AgingReport(AgingTotals):
    as_of: date
    buckets: list[str]
    by_collector: list[AgingRow]
    by_segment: list[AgingRow]


# --- rules ---------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case- and accent-insensitive form for searching: `Clínica PEÑA` -> `clinica pena`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold_tax_id(text: str) -> str:
    """A tax id without its punctuation, so `900.123.456-7` is found by `9001234567`."""
    return "".join(c for c in fold(text) if c.isalnum())


def matches_search(term: str, *, code: str, name: str, tax_id: str) -> bool:
    """Whether a client matches a search: `term` inside the folded code or name, or (without
    punctuation) inside the tax id. An empty term matches everyone."""
    folded_term = fold(term).strip()
    if not folded_term:
        return True
    if folded_term in fold(code) or folded_term in fold(name):
        return True
    digits = fold_tax_id(folded_term)
    return bool(digits) and digits in fold_tax_id(tax_id)


def invoice_line(
    *,
    number: str,
    due_date: date,
    amount: Decimal,
    balance: Decimal,
    as_of: date,
    issue_date: date | None = None,
    edges: Sequence[int] = DEFAULT_EDGES,
) -> InvoiceLine:
    days = days_past_due(due_date, as_of)
    return InvoiceLine(
        number=number,
        issue_date=issue_date,
        due_date=due_date,
        amount=amount,
        balance=balance,
        bucket=bucket_for(days, edges),
        days_past_due=days,
    )


def overdue_and_worst(
    lines: Iterable[InvoiceLine], edges: Sequence[int] = DEFAULT_EDGES
) -> tuple[Decimal, str | None]:
    """Sum of the overdue open balances, and the oldest bucket among open invoices."""
    order = {name: i for i, name in enumerate(bucket_names(edges))}
    overdue = ZERO
    worst: str | None = None
    for line in lines:
        if line.balance <= ZERO:
            continue
        if line.days_past_due > 0:
            overdue += line.balance
        if worst is None or order[line.bucket] > order[worst]:
            worst = line.bucket
    return overdue, worst


def due_date_range(
    bucket: str, today: date, edges: Sequence[int] = DEFAULT_EDGES
) -> tuple[date | None, date | None]:
    """The due dates (inclusive; None is unbounded) whose invoices fall in `bucket` on `today`.
    Raises ValueError for a name that is not one of `bucket_names(edges)`."""
    names = bucket_names(edges)
    if bucket not in names:
        raise ValueError(f"unknown bucket {bucket!r}; expected one of {', '.join(names)}")
    index = names.index(bucket)
    if index == 0:
        return today, None  # not yet due: days past due <= 0
    low = 1 if index == 1 else edges[index - 2] + 1
    if index == len(names) - 1:
        return None, today - timedelta(days=low)
    high = edges[index - 1]
    return today - timedelta(days=high), today - timedelta(days=low)


@dataclass(frozen=True)
class AgingItem:
    """An invoice's balance at the report date, or (due_date None) a client's unapplied credit
    as a negative amount; `disputed`: what open disputes claim of invoices due that day."""

    collector: str | None
    segment: Segment
    due_date: date | None
    balance: Decimal
    disputed: Decimal = ZERO


class _Tally:
    def __init__(self, names: list[str]) -> None:
        self.totals = dict.fromkeys(names, ZERO)
        self.counts = dict.fromkeys(names, 0)
        self.disputed = dict.fromkeys(names, ZERO)
        self.credit = ZERO

    def add(self, item: AgingItem, bucket: str | None) -> None:
        if bucket is None:
            self.credit -= item.balance
            return
        self.disputed[bucket] += item.disputed
        if item.balance != ZERO:
            self.totals[bucket] += item.balance
            self.counts[bucket] += 1

    def fields(self) -> dict[str, object]:
        total = sum(self.totals.values(), ZERO)
        disputed = sum(self.disputed.values(), ZERO)
        return {
            "totals": self.totals,
            "counts": self.counts,
            "total": total,
            "invoice_count": sum(self.counts.values()),
            "unapplied_credit": self.credit,
            "net_balance": total - self.credit,
            "disputed": self.disputed,
            "disputed_total": disputed,
            "collectable": total - self.credit - disputed,
        }


def aging_report(
    items: Iterable[AgingItem], *, as_of: date, edges: Sequence[int] = DEFAULT_EDGES
) -> AgingReport:
    """Totals and counts per bucket, overall, per collector and per segment. Invoices with a zero
    balance are not open and are skipped; unapplied credit is kept apart from the buckets."""
    names = bucket_names(edges)
    grand = _Tally(names)
    by_collector: dict[str | None, _Tally] = {}
    by_segment: dict[Segment, _Tally] = {}
    for item in items:
        if item.balance == ZERO and item.disputed == ZERO:
            continue
        bucket = None
        if item.due_date is not None:
            bucket = bucket_for(days_past_due(item.due_date, as_of), edges)
        for tally in (
            grand,
            by_collector.setdefault(item.collector, _Tally(names)),
            by_segment.setdefault(item.segment, _Tally(names)),
        ):
            tally.add(item, bucket)
    collectors = sorted(by_collector, key=lambda c: (c is None, c or ""))
    return AgingReport.model_validate(
        {
            "as_of": as_of,
            "buckets": names,
            **grand.fields(),
            "by_collector": [{"collector": c, **by_collector[c].fields()} for c in collectors],
            "by_segment": [
                {"segment": s, **by_segment[s].fields()} for s in SEGMENTS if s in by_segment
            ],
        }
    )
