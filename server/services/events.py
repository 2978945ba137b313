"""Apply one field event from a phone. Never commits; never refuses money for a business reason.

Each function answers `None` (applied) or a reason code (held: recorded, and a review item opened).
Where held money goes:
- client closed or reassigned to someone else: posted to that client's ledger anyway (the money
  was collected from that debtor) and queued for review;
- client unknown to this server: a `suspense_entry` (no ledger entry, since there is no client to
  post to) until a supervisor posts it to the right client.
So sum(payment events) = sum(payment entries from sync) + sum(suspense), always.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy.orm import Session

from server.db.models import Client, Promise, ReviewItem, SuspenseEntry, Visit
from server.repositories import events as events_repo
from server.repositories import ledger as ledger_repo
from server.services import ledger
from sync.protocol import (
    Event,
    PaymentCollectedEvent,
    PaymentVoidedEvent,
    PromiseMadeEvent,
    VisitRecordedEvent,
)

# A device time this far from the server's receipt is not trusted as the accounting date.
_PLAUSIBLE_PAST = timedelta(days=45)
_PLAUSIBLE_FUTURE = timedelta(hours=12)


@dataclass(frozen=True)
class Context:
    """Who pushed, when, and the clients the chunk names (looked up once per chunk)."""

    user_id: uuid.UUID
    device_id: uuid.UUID
    received_at: datetime
    tz: tzinfo
    clients: dict[uuid.UUID, Client]


def apply_event(session: Session, ctx: Context, event: Event) -> str | None:
    if isinstance(event, PaymentCollectedEvent):
        return _payment(session, ctx, event)
    if isinstance(event, PaymentVoidedEvent):
        return _void(session, ctx, event)
    if isinstance(event, VisitRecordedEvent):
        return _visit(session, ctx, event)
    return _promise(session, ctx, event)


def open_review(
    session: Session,
    ctx: Context,
    *,
    kind: str,
    event_id: uuid.UUID,
    client_id: uuid.UUID | None,
    reason: str,
) -> None:
    session.add(
        ReviewItem(
            kind=kind,
            event_id=event_id,
            client_id=client_id,
            reason=reason,
            status="open",
            created_at=ctx.received_at,
        )
    )


def effective_date(device_time: datetime, received_at: datetime, tz: tzinfo) -> date:
    """The business day the money was collected: the device's, unless its clock is implausible
    (then the day the server received it)."""
    if received_at - _PLAUSIBLE_PAST <= device_time <= received_at + _PLAUSIBLE_FUTURE:
        return device_time.astimezone(tz).date()
    return received_at.astimezone(tz).date()


def _client_reason(ctx: Context, client_id: uuid.UUID) -> str | None:
    client = ctx.clients.get(client_id)
    if client is None:
        return "client_unknown"
    if client.status != "active":
        return "client_closed"
    if client.collector_id != ctx.user_id:
        return "client_reassigned"
    return None


def _payment(session: Session, ctx: Context, event: PaymentCollectedEvent) -> str | None:
    p = event.payload
    reason = _client_reason(ctx, event.client_id)
    if reason == "client_unknown":
        session.add(
            SuspenseEntry(
                event_id=event.event_id,
                amount=p.amount,
                client_id=event.client_id,
                user_id=ctx.user_id,
                received_at=ctx.received_at,
            )
        )
    else:
        ledger.post_payment(
            session,
            client_id=event.client_id,
            amount=p.amount,
            effective_date=effective_date(event.device_time, ctx.received_at, ctx.tz),
            source="sync",
            invoice_numbers=p.invoice_numbers,
            event_id=event.event_id,
            reason=f"Recibo {p.receipt_no}",
            created_by=ctx.user_id,
        )
    return reason


def _void(session: Session, ctx: Context, event: PaymentVoidedEvent) -> str | None:
    target = event.payload.payment_event_id
    entry = events_repo.payment_entry(session, target)
    if entry is None:
        in_suspense = events_repo.in_suspense(session, target)
        return "payment_in_suspense" if in_suspense else "payment_not_found"
    if entry.created_by != ctx.user_id:
        return "void_not_allowed"  # only the collector who took the money voids it
    if ledger_repo.reversal_of(session, entry.id) is not None:
        return "already_voided"
    ledger.reverse_entry(
        session,
        entry.id,
        reason=f"Anulado en campo: {event.payload.reason}",
        effective_date=effective_date(event.device_time, ctx.received_at, ctx.tz),
        source="sync",
        created_by=ctx.user_id,
    )
    return None


def _visit(session: Session, ctx: Context, event: VisitRecordedEvent) -> str | None:
    p = event.payload
    session.add(
        Visit(
            event_id=event.event_id,
            client_id=event.client_id,
            user_id=ctx.user_id,
            device_id=ctx.device_id,
            device_time=event.device_time,
            received_at=ctx.received_at,
            outcome=p.outcome,
            lat=p.lat,
            lon=p.lon,
            accuracy_m=p.accuracy_m,
            notes=p.notes,
        )
    )
    return _client_reason(ctx, event.client_id)


def _promise(session: Session, ctx: Context, event: PromiseMadeEvent) -> str | None:
    p = event.payload
    session.add(
        Promise(
            event_id=event.event_id,
            client_id=event.client_id,
            user_id=ctx.user_id,
            device_id=ctx.device_id,
            device_time=event.device_time,
            received_at=ctx.received_at,
            amount=p.amount,
            due_date=p.due_date,
            visit_event_id=p.visit_event_id,
        )
    )
    return _client_reason(ctx, event.client_id)
