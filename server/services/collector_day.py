"""A collector's day for the supervisor (domain.md: "team's routes on a map, planned vs. what
happened"): the route plan in force that day, the visits in the order they happened on the
phone's clock with their verdicts (distance, flags), the payments and promises taken, and the
plan against what was done. Read-only; these functions do not check roles (the pages do)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal

from sqlalchemy.orm import Session

from server.db.models import Client, InboundEvent
from server.repositories import field_activity as repo
from shared.calendar import day_bounds
from shared.errors import NotFound
from shared.money import ZERO, money
from shared.visits import EFFECTIVE_OUTCOMES, is_flagged, split_flags


@dataclass(frozen=True)
class Place:
    """A client as the day shows it; `code` is None for a client this server does not know."""

    client_id: uuid.UUID
    code: str | None
    name: str | None
    lat: float | None
    lon: float | None
    location_source: str | None = None


@dataclass
class DayPayment:
    event_id: uuid.UUID
    client: Place
    device_time: datetime
    amount: Decimal
    method: str
    receipt_no: str
    status: str  # applied | held
    reason: str | None  # why it was held
    voided: bool = False
    void_reason: str = ""

    @property
    def counts(self) -> bool:
        """Money the day really collected: not voided (held money was still collected)."""
        return not self.voided


@dataclass
class DayPromise:
    client: Place
    device_time: datetime
    amount: Decimal
    due_date: date


@dataclass
class DayVisit:
    number: int  # 1.. in the order they happened
    event_id: uuid.UUID
    client: Place
    device_time: datetime
    outcome: str
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    distance_m: float | None
    verified: bool
    flags: tuple[str, ...]
    notes: str
    planned_position: int | None  # its client's place in the plan, None when unplanned
    payments: list[DayPayment] = field(default_factory=list)
    promises: list[DayPromise] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return is_flagged(self.flags)

    @property
    def effective(self) -> bool:
        return self.outcome in EFFECTIVE_OUTCOMES


@dataclass(frozen=True)
class PlannedStop:
    position: int  # 1.. in planned order
    client: Place
    visits: tuple[int, ...]  # the numbers of the day's visits to this client

    @property
    def done(self) -> bool:
        return bool(self.visits)


@dataclass(frozen=True)
class SkippedStop:
    client: Place
    reason: str


@dataclass
class CollectorDay:
    collector: str
    full_name: str
    day: date
    planned: bool  # a route plan was received for the day
    planned_distance_m: float | None
    stops: list[PlannedStop]
    skipped: list[SkippedStop]
    visits: list[DayVisit]
    payments: list[DayPayment]  # every payment of the day, with or without a visit
    promises: list[DayPromise]
    loose_payments: list[DayPayment] = field(default_factory=list)  # on no visit of the day

    @property
    def collected(self) -> Decimal:
        return sum((p.amount for p in self.payments if p.counts), ZERO)

    @property
    def stops_done(self) -> int:
        return sum(1 for s in self.stops if s.done)

    @property
    def unplanned_visits(self) -> list[DayVisit]:
        return [v for v in self.visits if v.planned_position is None]

    @property
    def flagged_visits(self) -> list[DayVisit]:
        return [v for v in self.visits if v.flagged]

    @property
    def effective_contacts(self) -> int:
        return sum(1 for v in self.visits if v.effective)

    @property
    def verified_visits(self) -> int:
        return sum(1 for v in self.visits if v.verified)


def _place(client_id: uuid.UUID, clients: dict[uuid.UUID, Client]) -> Place:
    c = clients.get(client_id)
    if c is None:
        return Place(client_id, None, None, None, None)
    return Place(c.id, c.code, c.name, c.lat, c.lon, c.location_source)


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def collector_day(session: Session, username: str, day: date, tz: tzinfo) -> CollectorDay:
    """Everything the day page shows for `username` on business day `day`."""
    user = repo.collector_by_username(session, username)
    if user is None:
        raise NotFound(f"no hay un gestor {username!r}", code="collector_not_found")
    start, end = day_bounds(day, tz)
    plan = repo.latest_route_plan(session, user.id, day)
    visits = repo.visits_of_day(session, user.id, day)
    payment_rows = repo.events_between(session, user.id, ["payment.collected"], start, end)
    promise_rows = repo.promises_between(session, user.id, start, end)
    voids = _voids(repo.voids_since(session, user.id, start))

    stop_ids = [u for u in (_uuid(s) for s in (plan.stops if plan else [])) if u]
    skipped_raw = (
        [(_uuid(s.get("client_id")), str(s.get("reason", ""))) for s in plan.skipped]
        if plan
        else []
    )
    wanted = set(stop_ids) | {v.client_id for v in visits} | {c for c, _ in skipped_raw if c}
    wanted |= {r.client_id for r in payment_rows if r.client_id} | {
        p.client_id for p in promise_rows
    }
    clients = repo.clients_by_id(session, wanted)
    position = {cid: i for i, cid in reversed(list(enumerate(stop_ids, start=1)))}

    day_visits = [
        DayVisit(
            number=n,
            event_id=v.event_id,
            client=_place(v.client_id, clients),
            device_time=v.device_time,
            outcome=v.outcome,
            lat=v.lat,
            lon=v.lon,
            accuracy_m=v.accuracy_m,
            distance_m=v.distance_m,
            verified=v.verified,
            flags=split_flags(v.flags),
            notes=v.notes,
            planned_position=position.get(v.client_id),
        )
        for n, v in enumerate(visits, start=1)
    ]
    payments = [_payment(r, clients, voids) for r in payment_rows]
    promises = [
        DayPromise(_place(p.client_id, clients), p.device_time, p.amount, p.due_date)
        for p in promise_rows
    ]
    loose = _attach(
        day_visits, payments, promises, payment_rows, [p.visit_event_id for p in promise_rows]
    )
    numbers: dict[uuid.UUID, list[int]] = defaultdict(list)
    for v in day_visits:
        numbers[v.client.client_id].append(v.number)
    return CollectorDay(
        collector=user.username,
        full_name=user.full_name,
        day=day,
        planned=plan is not None,
        planned_distance_m=plan.distance_m if plan else None,
        stops=[
            PlannedStop(i, _place(cid, clients), tuple(numbers.get(cid, ())))
            for i, cid in enumerate(stop_ids, start=1)
        ],
        skipped=[SkippedStop(_place(cid, clients), reason) for cid, reason in skipped_raw if cid],
        visits=day_visits,
        payments=payments,
        promises=promises,
        loose_payments=loose,
    )


def _voids(rows: Sequence[InboundEvent]) -> dict[uuid.UUID, str]:
    """Payment event id -> the reason it was voided."""
    found: dict[uuid.UUID, str] = {}
    for row in rows:
        payload = row.raw.get("payload") or {}
        target = _uuid(payload.get("payment_event_id"))
        if target is not None:
            found[target] = str(payload.get("reason", ""))
    return found


def _payment(
    row: InboundEvent, clients: dict[uuid.UUID, Client], voids: dict[uuid.UUID, str]
) -> DayPayment:
    payload = row.raw.get("payload") or {}
    assert row.client_id is not None and row.device_time is not None
    return DayPayment(
        event_id=row.event_id,
        client=_place(row.client_id, clients),
        device_time=row.device_time,
        amount=money(str(payload.get("amount", "0"))),
        method=str(payload.get("method", "")),
        receipt_no=str(payload.get("receipt_no", "")),
        status=row.status,
        reason=row.reason,
        voided=row.event_id in voids,
        void_reason=voids.get(row.event_id, ""),
    )


def _attach(
    visits: list[DayVisit],
    payments: list[DayPayment],
    promises: list[DayPromise],
    payment_rows: Sequence[InboundEvent],
    promise_visits: Sequence[uuid.UUID | None],
) -> list[DayPayment]:
    """Hang each payment and promise on its visit: the one it names, else the latest visit to the
    same client at or before it (the phone records the visit first). Returns the payments left
    on no visit."""
    by_event = {v.event_id: v for v in visits}
    named = {
        r.event_id: _uuid((r.raw.get("payload") or {}).get("visit_event_id")) for r in payment_rows
    }

    def visit_for(
        client_id: uuid.UUID, at: datetime, visit_id: uuid.UUID | None
    ) -> DayVisit | None:
        if visit_id is not None and visit_id in by_event:
            return by_event[visit_id]
        earlier = [v for v in visits if v.client.client_id == client_id and v.device_time <= at]
        return earlier[-1] if earlier else None

    loose: list[DayPayment] = []
    for p in payments:
        v = visit_for(p.client.client_id, p.device_time, named.get(p.event_id))
        if v is not None:
            v.payments.append(p)
        else:
            loose.append(p)
    for pr, visit_id in zip(promises, promise_visits, strict=True):
        v = visit_for(pr.client.client_id, pr.device_time, visit_id)
        if v is not None:
            v.promises.append(pr)
    return loose
