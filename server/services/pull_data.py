"""The `data` of client puts: what a collector's phone needs offline about each client (contact,
balance, open invoices aged at the business date, pending promises, last visits). Computed when a
pull reads it, in the pull's snapshot, for a whole page at once (a handful of queries)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from server.db.models import Client
from server.repositories import changes as changes_repo
from server.repositories import disputes as disputes_repo
from server.repositories import legal as legal_repo
from server.services import agreements as agreements_service
from shared.aging import bucket_for, days_past_due
from shared.calendar import business_date
from shared.promises import GRACE_DAYS, PaymentMade, PromiseStatus, promise_status
from shared.promises import Promise as PromiseFact
from sync.protocol import ActivePromise, ClientData, OpenDispute, OpenInvoice, RecentVisit

RECENT_VISITS = 3
# The next pending promises a collector needs in the street; more is weight on every put.
ACTIVE_PROMISES = 3


def client_data(
    session: Session,
    clients: Sequence[Client],
    *,
    now: datetime,
    tz: tzinfo,
    edges: Sequence[int],
) -> dict[uuid.UUID, dict[str, Any]]:
    """Wire `data` (defaults left out) of each client, by id."""
    ids = [c.id for c in clients]
    today = business_date(now, tz)
    invoices: dict[uuid.UUID, list[OpenInvoice]] = defaultdict(list)
    for cid, number, due, balance in changes_repo.open_invoices(session, ids):
        bucket = bucket_for(days_past_due(due, today), edges)
        invoices[cid].append(
            OpenInvoice(number=number, due_date=due, balance=balance, bucket=bucket)
        )
    visits: dict[uuid.UUID, list[RecentVisit]] = defaultdict(list)
    for cid, at, outcome in changes_repo.recent_visits(session, ids, RECENT_VISITS):
        visits[cid].append(
            RecentVisit.model_validate({"day": business_date(at, tz), "outcome": outcome})
        )
    promises = _pending_promises(session, ids, now=now, tz=tz, today=today)
    agreements = agreements_service.for_phones(session, ids, tz=tz, as_of=today)
    disputes: dict[uuid.UUID, list[OpenDispute]] = defaultdict(list)
    for cid, did, number, amount, kind, reason in disputes_repo.open_for_clients(session, ids):
        disputes[cid].append(
            OpenDispute.model_validate(
                {
                    "id": did,
                    "invoice_number": number,
                    "amount": amount,
                    "kind": kind,
                    "reason_code": reason,
                }
            )
        )
    in_legal = legal_repo.clients_in_legal(session, ids)
    return {
        c.id: ClientData(
            code=c.code,
            name=c.name,
            segment=c.segment,
            address=c.address,
            city=c.city,
            lat=c.lat,
            lon=c.lon,
            phones=tuple(c.phones or ()),
            channels=tuple(c.channels or ()),
            status="closed" if c.status == "closed" else "active",
            balance=c.balance,
            invoices=tuple(invoices[c.id]),
            promises=tuple(promises[c.id]),
            visits=tuple(visits[c.id]),
            agreements=tuple(agreements[c.id]),
            disputes=tuple(disputes[c.id]),
            legal=c.id in in_legal,
        ).model_dump(mode="json", exclude_defaults=True)
        for c in clients
    }


def _pending_promises(
    session: Session, ids: Sequence[uuid.UUID], *, now: datetime, tz: tzinfo, today: date
) -> dict[uuid.UUID, list[ActivePromise]]:
    """The first ACTIVE_PROMISES by due date of the promises still pending today (shared.promises):
    not yet covered, grace not over."""
    since = today - timedelta(days=GRACE_DAYS)
    found = changes_repo.promises_due_since(session, ids, since)
    result: dict[uuid.UUID, list[ActivePromise]] = defaultdict(list)
    if not found:
        return result
    earliest = min(business_date(made_at, tz) for _, made_at, _, _ in found)
    paid: dict[uuid.UUID, list[PaymentMade]] = defaultdict(list)
    for cid, at, amount in changes_repo.standing_payments_since(
        session, {p[0] for p in found}, earliest
    ):
        paid[cid].append(PaymentMade(paid_at=at, amount=amount))
    for cid, made_at, due, amount in found:
        fact = PromiseFact(made_at=made_at, due_date=due, amount=amount)
        outcome = promise_status(fact, paid[cid], now, tz)
        if outcome.status is PromiseStatus.PENDING:
            result[cid].append(ActivePromise(amount=amount, due_date=due, status="pending"))
    for cid, ps in result.items():
        result[cid] = sorted(ps, key=lambda p: p.due_date)[:ACTIVE_PROMISES]
    return result
