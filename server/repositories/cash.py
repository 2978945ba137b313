"""Queries of cash in hand and handovers (issue 7): which payments a handover may cover, each
collector's cash payments not yet handed over, and the handovers the office decides.

A payment's method lives only in its pushed event (`inbound_event.raw`), read with a JSON path
that SQLAlchemy renders for each engine (`json_extract` on SQLite, `#>>` on PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from server.db.models import (
    CashHandover,
    Client,
    HandoverPayment,
    InboundEvent,
    LedgerEntry,
    SuspenseEntry,
    User,
)

PAYMENT = "payment.collected"
VOID = "payment.voided"
OPEN_HANDOVER = ("pending", "confirmed")  # a payment in one of these is no longer in hand


def _payload(key: str) -> Any:
    return InboundEvent.raw[("payload", key)].as_string()


def _reversed(event_id: Any) -> Any:
    """EXISTS: the ledger entry of this payment event was reversed (a void or the office)."""
    pay = aliased(LedgerEntry, name="pay")
    rev = aliased(LedgerEntry, name="rev")
    return exists().where(pay.event_id == event_id, rev.reverses_id == pay.id)


def _money_recorded(event_id: Any) -> Any:
    """EXISTS: the payment's money is on the server (a ledger payment or suspense): leaves out
    malformed events kept as evidence (held `invalid_payload`), whose payload may be anything."""
    return or_(
        exists().where(LedgerEntry.event_id == event_id, LedgerEntry.kind == "payment"),
        exists().where(SuspenseEntry.event_id == event_id),
    )


def _handed_over(event_id: Any, *, excluding: uuid.UUID | None = None) -> Any:
    """EXISTS: the payment is in a pending or confirmed handover (other than `excluding`)."""
    query = exists().where(
        HandoverPayment.payment_event_id == event_id,
        CashHandover.id == HandoverPayment.handover_id,
        CashHandover.status.in_(OPEN_HANDOVER),
    )
    if excluding is not None:
        query = query.where(CashHandover.id != excluding)
    return query


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """What the handover rule reads of one named payment event already on the server."""

    event_id: uuid.UUID
    type: str
    user_id: uuid.UUID
    method: str | None
    amount: Decimal | None
    reversed: bool
    handed_over: bool


def payment_facts(
    session: Session, event_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, PaymentFacts]:
    """The named events as the server has them: one query (EXISTS subqueries for the reversal
    and for a pending/confirmed handover), and one for the collectors' voids naming them."""
    if not event_ids:
        return {}
    rows = session.execute(
        select(
            InboundEvent.event_id,
            InboundEvent.type,
            InboundEvent.user_id,
            _payload("method"),
            _payload("amount"),
            _reversed(InboundEvent.event_id),
            _handed_over(InboundEvent.event_id),
        ).where(
            InboundEvent.event_id.in_(list(event_ids)),
            or_(InboundEvent.type != PAYMENT, _money_recorded(InboundEvent.event_id)),
        )
    )
    voided = voided_by_collector(session, targets=event_ids)
    return {
        r[0]: PaymentFacts(
            r[0], r[1], r[2], r[3], _decimal(r[4]), bool(r[5]) or (r[2], r[0]) in voided, bool(r[6])
        )
        for r in rows
    }


def voided_by_collector(
    session: Session,
    *,
    user_id: uuid.UUID | None = None,
    targets: Collection[uuid.UUID] | None = None,
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(collector, payment event id) of every `payment.voided` a collector pushed, applied or
    held: the phone counts a voided payment out of cash in hand even when the server could not
    reverse it (money in suspense has no entry to reverse), and so does the server. Voids are
    few (same-day corrections); `targets` narrows them to some payments."""
    target = _payload("payment_event_id")
    query = select(InboundEvent.user_id, target).where(InboundEvent.type == VOID)
    if user_id is not None:
        query = query.where(InboundEvent.user_id == user_id)
    if targets is not None:
        query = query.where(target.in_(sorted(str(t) for t in targets)))
    found = set()
    for who, text in session.execute(query):
        try:
            found.add((who, uuid.UUID(text)))
        except (TypeError, ValueError):
            continue  # a malformed void (held invalid_payload) names nothing
    return found


def _decimal(value: str | None) -> Decimal | None:
    """A payment's amount as pushed (payment events here all have their money recorded, so a
    valid amount); anything else is no amount."""
    try:
        return None if value is None else Decimal(value)
    except (InvalidOperation, TypeError):
        return None


@dataclass(frozen=True, slots=True)
class CashRow:
    """One cash payment still in its collector's hands."""

    event_id: uuid.UUID
    user_id: uuid.UUID
    client_id: uuid.UUID | None
    client_code: str | None
    client_name: str | None
    receipt: str
    amount: Decimal
    paid_on: date | None  # the ledger entry's business day; None: in suspense (no entry)
    received_at: datetime


def cash_in_hand(session: Session, user_id: uuid.UUID | None = None) -> list[CashRow]:
    """Cash payments pushed by collectors (or by `user_id`), not reversed nor voided by their
    collector, and in no pending or confirmed handover, oldest first (two queries)."""
    entry = aliased(LedgerEntry, name="entry")
    query = (
        select(
            InboundEvent.event_id,
            InboundEvent.user_id,
            InboundEvent.client_id,
            Client.code,
            Client.name,
            _payload("receipt_no"),
            _payload("amount"),
            entry.effective_date,
            InboundEvent.received_at,
        )
        .outerjoin(Client, Client.id == InboundEvent.client_id)
        .outerjoin(entry, and_(entry.event_id == InboundEvent.event_id, entry.kind == "payment"))
        .where(
            InboundEvent.type == PAYMENT,
            _payload("method") == "cash",
            _money_recorded(InboundEvent.event_id),
            ~_reversed(InboundEvent.event_id),
            ~_handed_over(InboundEvent.event_id),
        )
        .order_by(InboundEvent.received_at, InboundEvent.id)
    )
    if user_id is not None:
        query = query.where(InboundEvent.user_id == user_id)
    voided = voided_by_collector(session, user_id=user_id)
    return [
        CashRow(r[0], r[1], r[2], r[3], r[4], r[5] or "", Decimal(r[6]), r[7], r[8])
        for r in session.execute(query)
        if (r[1], r[0]) not in voided
    ]


@dataclass(frozen=True, slots=True)
class HandoverRow:
    handover: CashHandover
    username: str
    full_name: str
    payments: int


def handovers(
    session: Session,
    *,
    status: str | None = None,
    user_id: uuid.UUID | None = None,
    handover_id: uuid.UUID | None = None,
) -> list[HandoverRow]:
    """Handovers, newest first, with their collector and how many payments they name."""
    count = (
        select(HandoverPayment.handover_id, func.count().label("n"))
        .group_by(HandoverPayment.handover_id)
        .subquery()
    )
    query = (
        select(CashHandover, User.username, User.full_name, count.c.n)
        .join(User, User.id == CashHandover.user_id)
        .outerjoin(count, count.c.handover_id == CashHandover.id)
        .order_by(CashHandover.received_at.desc(), CashHandover.id)
    )
    if status is not None:
        query = query.where(CashHandover.status == status)
    if user_id is not None:
        query = query.where(CashHandover.user_id == user_id)
    if handover_id is not None:
        query = query.where(CashHandover.id == handover_id)
    return [HandoverRow(h, u, f, int(n or 0)) for h, u, f, n in session.execute(query)]


def lock_handover(session: Session, handover_id: uuid.UUID) -> CashHandover | None:
    return session.scalar(
        select(CashHandover).where(CashHandover.id == handover_id).with_for_update()
    )


def reversed_payments(session: Session, handover_id: uuid.UUID) -> Sequence[uuid.UUID]:
    """The payments of a handover whose ledger entry has been reversed since."""
    return session.scalars(
        select(HandoverPayment.payment_event_id).where(
            HandoverPayment.handover_id == handover_id,
            _reversed(HandoverPayment.payment_event_id),
        )
    ).all()


def confirmed_on(
    session: Session, entry_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, datetime | None]:
    """Which of these payment ledger entries are cash payments, each with when its handover was
    confirmed (None: not confirmed). Entries of other methods are absent. In slices, so a month
    of payments stays within every engine's parameter limit."""
    hp = aliased(HandoverPayment, name="hp")
    h = aliased(CashHandover, name="h")
    ids = list(entry_ids)
    found: dict[uuid.UUID, datetime | None] = {}
    for at in range(0, len(ids), _SLICE):
        rows = session.execute(
            select(LedgerEntry.id, h.decided_at)
            .join(InboundEvent, InboundEvent.event_id == LedgerEntry.event_id)
            .outerjoin(hp, hp.payment_event_id == LedgerEntry.event_id)
            .outerjoin(h, and_(h.id == hp.handover_id, h.status == "confirmed"))
            .where(LedgerEntry.id.in_(ids[at : at + _SLICE]), _payload("method") == "cash")
        )
        for entry_id, decided_at in rows:  # one row per handover that named it
            if decided_at is not None or entry_id not in found:
                found[entry_id] = decided_at
    return found


_SLICE = 5000


def confirmed_between(
    session: Session, start: datetime, end: datetime, collector_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """The ledger entries of cash payments whose handover was confirmed in [start, end)."""
    query = (
        select(LedgerEntry.id)
        .join(HandoverPayment, HandoverPayment.payment_event_id == LedgerEntry.event_id)
        .join(CashHandover, CashHandover.id == HandoverPayment.handover_id)
        .where(
            CashHandover.status == "confirmed",
            CashHandover.decided_at >= start,
            CashHandover.decided_at < end,
            LedgerEntry.kind == "payment",
        )
    )
    if collector_id is not None:
        query = query.where(CashHandover.user_id == collector_id)
    return list(session.scalars(query))


def collectors(
    session: Session, holding: Collection[uuid.UUID], only: uuid.UUID | None
) -> list[User]:
    """The active collectors and anyone else holding cash (or just `only`), by username."""
    query = select(User).order_by(User.username)
    if only is not None:
        query = query.where(User.id == only)
    else:
        query = query.where(
            or_(and_(User.role == "collector", User.active), User.id.in_(list(holding)))
        )
    return list(session.scalars(query))
