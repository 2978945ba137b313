"""Today's list and a client's detail, as plain values computed from the mirror and this
phone's own events (mobile.services.portfolio). No Flet, no database.

Order of the day before a route is planned: each client's priority from its facts
(`shared.routing.stop_priority`: a promise due today, the overdue balance, the oldest bucket,
days since the last visit), highest first, then the name (stable, so the list does not jump);
once a route is planned, mobile.state.route puts the rows in the planner's order. Buckets are
recomputed from each invoice's due date at today's business date, so a week offline still ages
the portfolio correctly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal

from mobile.services.portfolio import ClientRecord, InvoiceLine, LocalEvent
from mobile.state.collections import (
    AgreementView,
    DisputeView,
    agreements_of,
    disputed_by_invoice,
    disputes_of,
)
from shared.aging import CURRENT, DEFAULT_EDGES, bucket_for, bucket_names, days_past_due
from shared.calendar import IsoWeek, business_date
from shared.geo import Point, distance_m
from shared.money import ZERO, money
from shared.routing import stop_priority

EFFECTIVE_OUTCOMES = frozenset({"contacted", "promise", "payment", "dispute"})


@dataclass(frozen=True)
class PromiseLine:
    amount: Decimal
    due_date: date
    made_at: datetime | None  # None: known from the server only
    status: str = "pending"  # the server's, or pending for one made here since the last pull


@dataclass(frozen=True)
class VisitLine:
    day: date
    outcome: str
    at: datetime | None = None  # None: known from the server only (it sends the day)
    notes: str = ""


@dataclass(frozen=True)
class PaymentLine:
    event_id: str
    receipt_no: str
    amount: Decimal
    method: str
    at: datetime
    voided: bool


@dataclass(frozen=True)
class ClientRow:
    """One stop of the day, ready to render."""

    id: str
    code: str
    name: str
    address: str
    segment: str
    balance: Decimal
    oldest_bucket: str
    bucket_rank: int  # index in the bucket list: 0 = al_dia
    distance_m: float | None
    promise_due_today: Decimal | None
    last_outcome: str | None
    visited_this_week: bool
    priority: float = 0.0  # shared.routing.stop_priority
    visited_today: bool = False
    status: str = "active"
    located: bool = False  # has coordinates: the planner can route to it
    # Set by mobile.state.route once a route is planned: the stop's number, when the planner
    # expects the visit to start, or why the stop is out of today's route.
    stop_no: int | None = None
    eta: datetime | None = None
    skip_reason: str | None = None
    legal: bool = False  # referred to a law firm: out of the route (mobile.state.route)
    agreement_broken: bool = False


@dataclass(frozen=True)
class TodayFilter:
    query: str = ""
    segment: str | None = None
    bucket: str | None = None
    promise_due: bool = False
    not_visited: bool = False


@dataclass(frozen=True)
class InvoiceView:
    number: str
    due_date: date
    balance: Decimal
    bucket: str
    disputed: Decimal = ZERO  # in open disputes (glosas): not collectable while they are open


@dataclass(frozen=True)
class ClientDetail:
    record: ClientRecord
    invoices: tuple[InvoiceView, ...]
    promises: tuple[PromiseLine, ...]  # newest first
    visits: tuple[VisitLine, ...]  # newest first
    payments_today: tuple[PaymentLine, ...]
    unreflected_payments: int  # payments not yet inside the server's balance
    distance_m: float | None
    location: Point | None = field(default=None)
    agreements: tuple[AgreementView, ...] = ()
    disputes: tuple[DisputeView, ...] = ()

    @property
    def agreement_broken(self) -> bool:
        return any(a.broken for a in self.agreements)


def fold(text: str) -> str:
    """Lower case without accents, for search (`Peña` matches `pena`)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def location_of(record: ClientRecord) -> Point | None:
    if record.lat is None or record.lon is None:
        return None
    return Point(record.lat, record.lon)


def overdue_balance(invoices: Iterable[InvoiceLine], today: date) -> Decimal:
    return sum((inv.balance for inv in invoices if inv.balance > 0 and inv.due_date < today), ZERO)


def oldest_bucket(
    invoices: Iterable[InvoiceLine], today: date, edges: Sequence[int] = DEFAULT_EDGES
) -> str:
    days = [days_past_due(inv.due_date, today) for inv in invoices if inv.balance > 0]
    return bucket_for(max(days), edges) if days else CURRENT


def _by_client(events: Iterable[LocalEvent]) -> dict[str, list[LocalEvent]]:
    grouped: dict[str, list[LocalEvent]] = {}
    for event in events:
        grouped.setdefault(event.client_id, []).append(event)
    return grouped


def promises_of(
    record: ClientRecord, events: Iterable[LocalEvent], tz: tzinfo | str | None = None
) -> list[PromiseLine]:
    """The server's active promises plus the ones made here; a promise made here that the
    server already lists (same amount and date) shows once, with the server's status."""
    lines = [PromiseLine(p.amount, p.due_date, None, p.status) for p in record.promises]
    known = {(p.amount, p.due_date) for p in lines}
    for e in events:
        if e.type != "promise.made":
            continue
        line = PromiseLine(
            amount=money(str(e.payload["amount"])),
            due_date=date.fromisoformat(str(e.payload["due_date"])),
            made_at=e.device_time,
        )
        if (line.amount, line.due_date) not in known:
            lines.append(line)
    return sorted(lines, key=lambda p: p.due_date, reverse=True)


def visits_of(
    record: ClientRecord, events: Iterable[LocalEvent], tz: tzinfo | str | None = None
) -> list[VisitLine]:
    """Visits recorded here (with their time) and the server's recent ones (by day); on a day
    with visits recorded here, the server's entries for that day are the same visits."""
    local = [
        VisitLine(
            business_date(e.device_time, tz),
            str(e.payload["outcome"]),
            e.device_time,
            str(e.payload.get("notes", "")),
        )
        for e in events
        if e.type == "visit.recorded"
    ]
    days = {v.day for v in local}
    server = [VisitLine(v.day, v.outcome) for v in record.visits if v.day not in days]
    return sorted(
        local + server,
        key=lambda v: (v.day, v.at is not None, v.at or datetime.min.replace(tzinfo=UTC)),
        reverse=True,
    )


def payments_of(events: Sequence[LocalEvent]) -> list[PaymentLine]:
    voided = {e.ref_event_id for e in events if e.type == "payment.voided"}
    return [
        PaymentLine(
            event_id=e.event_id,
            receipt_no=str(e.payload["receipt_no"]),
            amount=money(str(e.payload["amount"])),
            method=str(e.payload["method"]),
            at=e.device_time,
            voided=e.event_id in voided,
        )
        for e in events
        if e.type == "payment.collected"
    ]


def today_rows(
    records: Iterable[ClientRecord],
    events: Iterable[LocalEvent],
    *,
    now: datetime,
    tz: tzinfo | str | None = None,
    position: Point | None = None,
    edges: Sequence[int] = DEFAULT_EDGES,
) -> list[ClientRow]:
    """Every client of the collector as a row of the day, in priority order."""
    today = business_date(now, tz)
    week = IsoWeek.of(today)
    ranks = {name: i for i, name in enumerate(bucket_names(edges))}
    grouped = _by_client(events)
    rows = []
    for record in records:
        mine = grouped.get(record.id, [])
        due_today = [
            p.amount
            for p in promises_of(record, mine, tz)
            if p.due_date == today and p.status == "pending"
        ]
        visits = visits_of(record, mine, tz)
        location = location_of(record)
        bucket = oldest_bucket(record.invoices, today, edges)
        rank = ranks.get(bucket, 0)
        priority = stop_priority(
            promise_due_today=bool(due_today),
            overdue_balance=overdue_balance(record.invoices, today),
            oldest_bucket_rank=rank,
            days_since_last_visit=(today - visits[0].day).days if visits else None,
        )
        rows.append(
            ClientRow(
                id=record.id,
                code=record.code,
                name=record.name,
                address=record.address,
                segment=record.segment,
                balance=record.balance,
                oldest_bucket=bucket,
                bucket_rank=rank,
                distance_m=(distance_m(position, location) if position and location else None),
                promise_due_today=sum(due_today, ZERO) if due_today else None,
                last_outcome=visits[0].outcome if visits else None,
                visited_this_week=any(IsoWeek.of(v.day) == week for v in visits),
                priority=priority,
                visited_today=bool(visits) and visits[0].day == today,
                status=record.status,
                located=location is not None,
                legal=record.legal,
                agreement_broken=any(a.broken for a in agreements_of(record, mine, today)),
            )
        )
    rows.sort(key=lambda r: (-r.priority, -r.balance, fold(r.name)))
    return rows


def filter_rows(rows: Iterable[ClientRow], flt: TodayFilter) -> list[ClientRow]:
    """Search by name, code or address (accents and case ignored), then the filters."""
    words = fold(flt.query).split()
    kept = []
    for row in rows:
        haystack = fold(f"{row.name} {row.code} {row.address}")
        if any(word not in haystack for word in words):
            continue
        if flt.segment and row.segment != flt.segment:
            continue
        if flt.bucket and row.oldest_bucket != flt.bucket:
            continue
        if flt.promise_due and row.promise_due_today is None:
            continue
        if flt.not_visited and row.visited_this_week:
            continue
        kept.append(row)
    return kept


def client_detail(
    record: ClientRecord,
    events: Sequence[LocalEvent],
    *,
    now: datetime,
    tz: tzinfo | str | None = None,
    position: Point | None = None,
    edges: Sequence[int] = DEFAULT_EDGES,
) -> ClientDetail:
    today = business_date(now, tz)
    mine = [e for e in events if e.client_id == record.id]
    location = location_of(record)
    payments = payments_of(mine)
    voided = {p.event_id for p in payments if p.voided}
    unreflected = sum(
        1
        for e in mine
        if e.type == "payment.collected"
        and e.state in ("pending", "conflict")
        and e.event_id not in voided  # paid and voided here: nothing for the server to reflect
    )
    disputes = disputes_of(record, mine)
    disputed = disputed_by_invoice(disputes)
    return ClientDetail(
        record=record,
        invoices=tuple(
            InvoiceView(
                inv.number,
                inv.due_date,
                inv.balance,
                bucket_for(days_past_due(inv.due_date, today), edges),
                disputed.get(inv.number, ZERO),
            )
            for inv in record.invoices
        ),
        promises=tuple(promises_of(record, mine, tz)),
        visits=tuple(visits_of(record, mine, tz)),
        payments_today=tuple(p for p in payments if business_date(p.at, tz) == today),
        unreflected_payments=unreflected,
        distance_m=distance_m(position, location) if position and location else None,
        location=location,
        agreements=tuple(agreements_of(record, mine, today)),
        disputes=tuple(disputes),
    )


def segments(rows: Iterable[ClientRow]) -> list[str]:
    return sorted({row.segment for row in rows if row.segment})
