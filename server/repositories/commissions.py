"""The queries behind commission statements: the applied amounts of the field payments and of
their reversals in a period (one UNION ALL), and the collectors' effective contacts per day."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, func, null, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from server.db.models import (
    Client,
    InboundEvent,
    Invoice,
    LedgerAllocation,
    LedgerEntry,
    ReviewItem,
    User,
    Visit,
)
from shared.visits import EFFECTIVE_OUTCOMES


class AppliedRow(NamedTuple):
    """One allocation of a counted payment, as a payment line (`reversal_id` None) or as a
    reversal line (`reversal_id` the reversal entry, `line_date` its business day; everything
    else still describes the payment it undoes). Only what a statement line shows: a month of
    all collectors is some 200,000 rows, and each column costs in the transfer."""

    reversal_id: uuid.UUID | None
    payment_id: uuid.UUID
    line_date: date
    paid_on: date
    collector_id: uuid.UUID
    receipt: str  # the payment entry's reason: "Recibo K7Q-000412" for a sync payment
    client_code: str
    client_name: str
    allocation_id: int
    invoice_number: str | None  # None: the client's credit
    due_date: date | None
    applied: Decimal  # positive: what the payment put on this invoice (or credit)
    held_reason: str | None  # client_closed / client_reassigned when the push held it


class CollectorRow(NamedTuple):
    id: uuid.UUID
    username: str
    full_name: str


def applied_in_period(
    session: Session,
    start: date,
    end: date,
    collector_id: uuid.UUID | None = None,
    also_payments: Collection[uuid.UUID] = (),
) -> list[AppliedRow]:
    """The allocations of field payments with business day in [start, end], and of field
    payments reversed by an entry dated in [start, end] (whatever the payment's own date).

    A field payment is one a collector's device recorded: a `sync` entry (its `created_by` is the
    collector), or a `manual` entry that carries a field event's id (money the push parked in
    suspense, posted to a client by the office on the day it did so: the collector is the one
    whose device sent the event). One statement, a UNION ALL of the four cases; each uses the
    (kind, effective_date) index, and the suspense cases join the pushed event by its unique id.
    `also_payments` (payment entry ids): their payment lines too, whatever their date (cash whose
    handover was confirmed in the period, when the rules count cash then).
    """
    pay = aliased(LedgerEntry, name="pay")
    rev = aliased(LedgerEntry, name="rev")
    alloc = LedgerAllocation
    held = aliased(ReviewItem, name="held")
    pushed = aliased(InboundEvent, name="pushed")

    def lines(is_reversal: bool, from_suspense: bool) -> Select[*tuple[Any, ...]]:
        entry = rev if is_reversal else pay
        collector = pushed.user_id if from_suspense else pay.created_by
        query: Select[*tuple[Any, ...]] = select(
            (rev.id if is_reversal else null()).label("reversal_id"),
            pay.id.label("payment_id"),
            entry.effective_date.label("line_date"),
            pay.effective_date.label("paid_on"),
            collector.label("collector_id"),
            pay.reason.label("receipt"),
            Client.code,
            Client.name,
            alloc.id.label("allocation_id"),
            Invoice.number,
            Invoice.due_date,
            (-alloc.amount).label("applied"),
            held.reason.label("held_reason"),
        ).select_from(entry)
        if is_reversal:
            query = query.join(pay, pay.id == rev.reverses_id).where(rev.kind == "reversal")
        if from_suspense:
            query = query.join(pushed, pushed.event_id == pay.event_id).where(
                pay.source == "manual"
            )
        else:
            query = query.where(pay.source == "sync", pay.created_by.is_not(None))
        query = (
            query.join(alloc, alloc.entry_id == pay.id)
            .join(Client, Client.id == pay.client_id)
            .outerjoin(Invoice, Invoice.id == alloc.invoice_id)
            .outerjoin(held, and_(held.event_id == pay.event_id, held.kind == "held_event"))
            .where(pay.kind == "payment")
        )
        in_period = and_(entry.effective_date >= start, entry.effective_date <= end)
        if also_payments and not is_reversal:
            in_period = or_(in_period, pay.id.in_(list(also_payments)))
        query = query.where(in_period)
        if collector_id is not None:
            query = query.where(collector == collector_id)
        return query

    statement = union_all(
        lines(False, False), lines(True, False), lines(False, True), lines(True, True)
    )
    return [AppliedRow._make(row) for row in session.execute(statement).all()]


def effective_contacts_by_day(
    session: Session, start: date, end: date, collector_id: uuid.UUID | None = None
) -> dict[tuple[uuid.UUID, date], int]:
    """Effective contacts per (collector, business day) in [start, end]. Grouped by day, not by
    week, so the SQL is the same on every engine; the caller adds the days of each ISO week."""
    query = (
        select(Visit.user_id, Visit.business_date, func.count())
        .where(
            Visit.business_date >= start,
            Visit.business_date <= end,
            Visit.outcome.in_(sorted(EFFECTIVE_OUTCOMES)),
        )
        .group_by(Visit.user_id, Visit.business_date)
    )
    if collector_id is not None:
        query = query.where(Visit.user_id == collector_id)
    return {(user_id, day): int(n) for user_id, day, n in session.execute(query) if day is not None}


def collectors(
    session: Session, ids: Collection[uuid.UUID], only: uuid.UUID | None = None
) -> Sequence[CollectorRow]:
    """The active collectors and anyone else in `ids` (a former collector who still has lines),
    or just `only`; by username."""
    query = select(User.id, User.username, User.full_name).order_by(User.username)
    if only is not None:
        query = query.where(User.id == only)
    else:
        query = query.where(
            or_(and_(User.role == "collector", User.active), User.id.in_(list(ids)))
        )
    return [CollectorRow(*row) for row in session.execute(query)]
