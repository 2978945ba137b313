"""Apply the field events of one push chunk. Never commits; never refuses money for a business
reason.

Set-based: the chunk's clients, void targets and open invoices are read with one query each,
every rule runs in Python in chunk order (each event sees what the earlier ones did), and the
rows are written with one bulk statement per table (`Chunk.write`).

Each event gets `None` (applied) or a reason code (held: recorded, and a review item opened).
Where held money goes:
- client closed or reassigned to someone else: posted to that client's ledger anyway (the money
  was collected from that debtor) and queued for review;
- client unknown to this server: a `suspense_entry` (no ledger entry, since there is no client to
  post to) until a supervisor posts it to the right client;
- amount implausible (`amount_implausible`): above `shared.money.MAX_FIELD_PAYMENT`, or posting it
  would take the client's balance past ±MAX_AMOUNT (the range a balance is stored and sent in):
  a `suspense_entry` too, so no field event can push a balance out of range and make every
  later push or pull of that client fail. A void that would do so is held with the same reason.
So sum(payment events) = sum(payment entries from sync) + sum(suspense), always.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.repositories import events as events_repo
from server.repositories import ledger as ledger_repo
from server.repositories.cash import PaymentFacts
from server.repositories.disputes import DisputedInvoice
from server.repositories.events import ClientFacts
from server.services import field_agreements, field_cash, field_disputes
from server.services.ledger import Posted, PostingBatch
from shared.contact_rules import ContactRules, load_rules
from shared.geo import Point
from shared.money import MAX_AMOUNT, MAX_FIELD_PAYMENT, ZERO
from shared.visits import (
    LEARN_MAX_ACCURACY_M,
    LegalHours,
    fix_of,
    good_for_learning,
    learned_location,
    verify_visit,
)
from sync.protocol import (
    AgreementProposedEvent,
    CashHandedOverEvent,
    DisputeOpenedEvent,
    Event,
    PaymentCollectedEvent,
    PaymentVoidedEvent,
    PromiseMadeEvent,
    RoutePlannedEvent,
    VisitRecordedEvent,
)

# A device time this far from the server's receipt is not trusted as the accounting date.
_PLAUSIBLE_PAST = timedelta(days=45)
_PLAUSIBLE_FUTURE = timedelta(hours=12)


@dataclass(frozen=True)
class Context:
    """Who pushed, when, and the clients the chunk touches (looked up and locked once per chunk
    by `Chunk.load`)."""

    user_id: uuid.UUID
    device_id: uuid.UUID
    received_at: datetime
    tz: tzinfo
    clients: dict[uuid.UUID, ClientFacts] = field(default_factory=dict)
    # The contact rules visits are checked against (legal hours): Colombia's unless said.
    rules: ContactRules = field(default_factory=load_rules)


def effective_date(device_time: datetime, received_at: datetime, tz: tzinfo) -> date:
    """The business day the money was collected: the device's, unless its clock is implausible
    (then the day the server received it)."""
    if received_at - _PLAUSIBLE_PAST <= device_time <= received_at + _PLAUSIBLE_FUTURE:
        return device_time.astimezone(tz).date()
    return received_at.astimezone(tz).date()


@dataclass
class _Voidable:
    """What a void needs of a payment event, from the database or from earlier in the chunk."""

    entry: Posted | None  # None: the money went to suspense
    reversed: bool = False


@dataclass
class Chunk:
    """The effects of one chunk, gathered in chunk order and written in bulk by `write`."""

    ctx: Context
    ledger: PostingBatch
    payments: dict[uuid.UUID, _Voidable]  # payment event id -> what a void finds
    recorded_at: datetime = field(default_factory=utcnow)
    suspense: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    route_plans: list[dict[str, Any]] = field(default_factory=list)
    # Rows of the issue-7 field events, by events_repo bulk name, written in first-use order
    # (a handler adds a parent's list before its children's).
    extra_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    changed_clients: set[uuid.UUID] = field(default_factory=set)
    # The payment events applied so far in this chunk (a handover may name them), the stored
    # payments the chunk's handovers name (field_cash.load) and what they claimed so far.
    collected: dict[uuid.UUID, PaymentCollectedEvent] = field(default_factory=dict)
    handover_payments: dict[uuid.UUID, PaymentFacts] = field(default_factory=dict)
    handed_over: set[uuid.UUID] = field(default_factory=set)
    # Clients without a location: the good fixes seen so far (database, then this chunk), and
    # the locations learned from them in this chunk.
    fixes: dict[uuid.UUID, list[Point]] = field(default_factory=dict)
    learned: dict[uuid.UUID, Point] = field(default_factory=dict)
    # The invoices the chunk's disputes name, by (client id, number) (field_disputes.load).
    dispute_invoices: dict[tuple[uuid.UUID, str], DisputedInvoice] = field(default_factory=dict)
    _hours: LegalHours | None = None

    @classmethod
    def load(cls, session: Session, ctx: Context, events: Sequence[Event]) -> Chunk:
        """Everything the rules read, one query per kind: the payments voids point at (their
        entries, allocations, reversals, suspense), the clients (locked, in id order) and then
        the invoices money will move on (locked, in id order). Lock order of a chunk: device,
        clients, invoices, the rows it inserts, and the server_seq counter last."""
        targets = {e.payload.payment_event_id for e in events if isinstance(e, PaymentVoidedEvent)}
        entries = ledger_repo.payment_entries(session, targets)
        touched = {e.client_id for e in events} | {e.client_id for e in entries.values()}
        ctx = replace(ctx, clients=events_repo.lock_clients(session, touched))
        allocations = ledger_repo.allocations_by_entry(session, [e.id for e in entries.values()])
        reversed_ids = ledger_repo.reversed_among(session, [e.id for e in entries.values()])
        payments = {
            event_id: _Voidable(
                Posted(e.id, e.client_id, e.amount, e.created_by, allocations.get(e.id, [])),
                reversed=e.id in reversed_ids,
            )
            for event_id, e in entries.items()
        }
        for event_id in events_repo.in_suspense(session, targets - entries.keys()):
            payments[event_id] = _Voidable(None)
        paid = {
            e.client_id
            for e in events
            if isinstance(e, PaymentCollectedEvent) and e.client_id in ctx.clients
        }
        reopened = {i for v in payments.values() if v.entry for i, _ in v.entry.allocations if i}
        chunk = cls(ctx, PostingBatch.load(session, paid, reopened), payments)
        chunk.fixes = _learning_fixes(session, ctx, events)
        chunk.handover_payments = field_cash.load(session, events)
        chunk.dispute_invoices = field_disputes.load(session, events)
        return chunk

    def apply(self, event: Event) -> str | None:
        if isinstance(event, PaymentCollectedEvent):
            return self._payment(event)
        if isinstance(event, PaymentVoidedEvent):
            return self._void(event)
        if isinstance(event, VisitRecordedEvent):
            return self._visit(event)
        if isinstance(event, RoutePlannedEvent):
            return self._route_plan(event)
        if isinstance(event, AgreementProposedEvent):
            return field_agreements.proposed(self, event)
        if isinstance(event, DisputeOpenedEvent):
            return field_disputes.opened(self, event)
        if isinstance(event, CashHandedOverEvent):
            return field_cash.handed_over(self, event)
        return self._promise(event)

    def add_rows(self, kind: str, *rows: dict[str, Any]) -> None:
        """Queue rows for one of events_repo's bulk tables (issue-7 handlers)."""
        self.extra_rows.setdefault(kind, []).extend(rows)

    def open_review(
        self, *, kind: str, event_id: uuid.UUID, client_id: uuid.UUID | None, reason: str
    ) -> None:
        self.reviews.append(
            {
                "kind": kind,
                "event_id": event_id,
                "client_id": client_id,
                "reason": reason,
                "status": "open",
                "created_at": self.ctx.received_at,
                "resolved_at": None,
                "resolved_by": None,
            }
        )

    def write(self, session: Session) -> None:
        """Ledger first (entries, allocations, projections), then the field facts."""
        self.ledger.write(session, now=self.recorded_at)
        events_repo.insert_rows(session, "suspense", self.suspense)
        events_repo.insert_rows(session, "visits", self.visits)
        events_repo.insert_rows(session, "promises", self.promises)
        events_repo.insert_rows(session, "reviews", self.reviews)
        events_repo.insert_rows(session, "route_plans", self.route_plans)
        for kind, rows in self.extra_rows.items():
            events_repo.insert_rows(session, kind, rows)
        events_repo.set_learned_locations(
            session, {cid: (p.lat, p.lon) for cid, p in self.learned.items()}
        )

    def client_reason(self, client_id: uuid.UUID) -> str | None:
        """Why an event about this client is held (unknown, closed, someone else's), or None."""
        return self._client_reason(client_id)

    def _client_reason(self, client_id: uuid.UUID) -> str | None:
        client = self.ctx.clients.get(client_id)
        if client is None:
            return "client_unknown"
        self.changed_clients.add(client_id)
        if client.status != "active":
            return "client_closed"
        if client.collector_id != self.ctx.user_id:
            return "client_reassigned"
        return None

    def _payment(self, event: PaymentCollectedEvent) -> str | None:
        p, ctx = event.payload, self.ctx
        self.collected[event.event_id] = event
        reason = self._client_reason(event.client_id)
        if reason == "client_unknown":
            self._to_suspense(event)
            return reason
        if p.amount > MAX_FIELD_PAYMENT or not self._fits(event.client_id, -p.amount):
            self._to_suspense(event)
            return "amount_implausible"
        posted = self.ledger.payment(
            client_id=event.client_id,
            amount=p.amount,
            effective_date=effective_date(event.device_time, ctx.received_at, ctx.tz),
            source="sync",
            invoice_numbers=p.invoice_numbers,
            event_id=event.event_id,
            reason=f"Recibo {p.receipt_no}",
            created_by=ctx.user_id,
            recorded_at=self.recorded_at,
        )
        self.payments[event.event_id] = _Voidable(posted)
        return reason

    def _to_suspense(self, event: PaymentCollectedEvent) -> None:
        self.suspense.append(
            {
                "event_id": event.event_id,
                "amount": event.payload.amount,
                "client_id": event.client_id,
                "user_id": self.ctx.user_id,
                "received_at": self.ctx.received_at,
            }
        )
        self.payments[event.event_id] = _Voidable(None)

    def _fits(self, client_id: uuid.UUID, delta: Decimal) -> bool:
        """Whether the client's balance, after this chunk's earlier postings, stays in range."""
        client = self.ctx.clients.get(client_id)
        moved, _ = self.ledger.client_moves.get(client_id, (ZERO, 0))
        return client is not None and abs(client.balance + moved + delta) <= MAX_AMOUNT

    def _void(self, event: PaymentVoidedEvent) -> str | None:
        # A put of the client even when the void is held: the phone counts a void as reflected
        # only once a client put with a later seq arrives, else it would add it back for good.
        if event.client_id in self.ctx.clients:
            self.changed_clients.add(event.client_id)
        target = self.payments.get(event.payload.payment_event_id)
        if target is None:
            return "payment_not_found"
        if target.entry is None:
            return "payment_in_suspense"
        entry = target.entry
        if entry.created_by != self.ctx.user_id:
            return "void_not_allowed"  # only the collector who took the money voids it
        if target.reversed:
            return "already_voided"
        if not self._fits(entry.client_id, -entry.amount):
            return "amount_implausible"
        self.ledger.reversal(
            entry,
            reason=f"Anulado en campo: {event.payload.reason}",
            effective_date=effective_date(event.device_time, self.ctx.received_at, self.ctx.tz),
            source="sync",
            created_by=self.ctx.user_id,
            recorded_at=self.recorded_at,
        )
        target.reversed = True
        self.changed_clients.add(entry.client_id)
        return None

    def _field_fact(self, event: VisitRecordedEvent | PromiseMadeEvent) -> dict[str, Any]:
        return {
            "event_id": event.event_id,
            "client_id": event.client_id,
            "user_id": self.ctx.user_id,
            "device_id": self.ctx.device_id,
            "device_time": event.device_time,
            "received_at": self.ctx.received_at,
        }

    def _visit(self, event: VisitRecordedEvent) -> str | None:
        p, ctx = event.payload, self.ctx
        client = ctx.clients.get(event.client_id)
        location = self._location(client)
        fix = fix_of(p.lat, p.lon, p.accuracy_m)
        verdict = verify_visit(
            fix,
            location,
            device_time=event.device_time,
            received_at=ctx.received_at,
            hours=self._legal_hours(),
        )
        self.visits.append(
            {
                **self._field_fact(event),
                "outcome": p.outcome,
                "lat": p.lat,
                "lon": p.lon,
                "accuracy_m": p.accuracy_m,
                "notes": p.notes,
                # The day of the device's clock, even a skewed one (flagged, still counted).
                "business_date": event.device_time.astimezone(ctx.tz).date(),
                "distance_m": verdict.distance_m,
                "verified": verdict.verified,
                "flags": verdict.stored_flags,
            }
        )
        if verdict.review_reason is not None:
            # Only the suspicious flags (shared/visits.py): no_fix and client_location_unknown
            # alone explain an unverified visit and would flood the queue.
            self.open_review(
                kind="flagged_visit",
                event_id=event.event_id,
                client_id=event.client_id,
                reason=verdict.review_reason,
            )
        if client is not None and location is None and good_for_learning(fix, verdict.flags):
            assert fix is not None
            self._learn(client.id, fix.point)
        return self._client_reason(event.client_id)

    def _legal_hours(self) -> LegalHours:
        if self._hours is None:
            self._hours = LegalHours(self.ctx.rules, self.ctx.tz)
        return self._hours

    def _location(self, client: ClientFacts | None) -> Point | None:
        if client is None:
            return None
        if client.lat is not None and client.lon is not None:
            return Point(client.lat, client.lon)
        return self.learned.get(client.id)

    def _learn(self, client_id: uuid.UUID, point: Point) -> None:
        """A good fix of a client without a location; once enough agree, it is learned and the
        chunk's later visits are verified against it (the earlier ones, which taught it, stay
        unverified: a location is not evidence for the fixes it came from)."""
        seen = self.fixes.setdefault(client_id, [])
        seen.append(point)
        found = learned_location(seen)
        if found is not None:
            self.learned[client_id] = found

    def _promise(self, event: PromiseMadeEvent) -> str | None:
        p = event.payload
        self.promises.append(
            {
                **self._field_fact(event),
                "amount": p.amount,
                "due_date": p.due_date,
                "visit_event_id": p.visit_event_id,
            }
        )
        return self._client_reason(event.client_id)

    def _route_plan(self, event: RoutePlannedEvent) -> str | None:
        """A plan is the collector's intent, not a fact about a client: stored as sent (a plan
        naming another collector's client is the supervisor's to read, not to refuse)."""
        p = event.payload
        self.route_plans.append(
            {
                "event_id": event.event_id,
                "user_id": self.ctx.user_id,
                "device_id": self.ctx.device_id,
                "plan_date": p.plan_date,
                "device_time": event.device_time,
                "received_at": self.ctx.received_at,
                "stops": [str(c) for c in p.stops],
                "skipped": [{"client_id": str(s.client_id), "reason": s.reason} for s in p.skipped],
                "distance_m": p.distance_m,
            }
        )
        return None


def _learning_fixes(
    session: Session, ctx: Context, events: Sequence[Event]
) -> dict[uuid.UUID, list[Point]]:
    """The good fixes already received for the clients without a location that this chunk
    visits with a fix that could teach it (one query, and none for most chunks)."""
    wanted = {
        e.client_id
        for e in events
        if isinstance(e, VisitRecordedEvent)
        and e.payload.lat is not None
        and e.payload.accuracy_m is not None
        and e.payload.accuracy_m <= LEARN_MAX_ACCURACY_M
        and (client := ctx.clients.get(e.client_id)) is not None
        and client.lat is None
    }
    rows = events_repo.learning_fixes(session, wanted, max_accuracy_m=LEARN_MAX_ACCURACY_M)
    return {cid: [Point(lat, lon) for lat, lon in points] for cid, points in rows.items()}
