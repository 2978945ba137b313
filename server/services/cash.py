"""Cash in hand and handovers (issue 7): each collector's cash payments not yet deposited or
handed to the office, with their age, and the supervisor's decision on each handover.

- **Cash in hand**: the cash payments a collector pushed (applied, or held: money at an unknown
  client in suspense is still cash in their pocket), not reversed nor voided by them (a held
  void of money in suspense included, as the phone counts it), and in no pending or confirmed
  handover. A rejected handover gives its payments back to cash in hand.
- **Age** in calendar days (cash sits in a pocket over weekends and holidays too): today minus
  the payment's business day (its ledger entry's date; for money in suspense, the day the server
  received it).
- **Confirm** (supervisor/admin): the amount seen in the bank or the till must equal the
  handover's (else 422 `amount_mismatch`: reject it with a note instead); a held handover cannot
  be confirmed (409 `handover_held`), nor one whose payments were voided since it was sent
  (409 `handover_payment_voided`). **Reject** needs a note; the payments go back to cash in
  hand. Both are audited, resolve the handover's open review items and tell the collector's
  phone through the handover event's status (`confirmed` / `rejected`, with the note).

Every function never commits; the callers do.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Final, Literal

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.orm import Session

from server.db.models import CashHandover, ReviewItem
from server.repositories import audit as audit_repo
from server.repositories import cash as cash_repo
from server.repositories import users as users_repo
from server.services import changes
from server.services.access import Actor, require_office
from shared.errors import Conflict, InvalidInput, NotFound
from shared.money import ZERO, money

HandoverStatus = Literal["pending", "confirmed", "rejected"]
MAX_NOTE: Final = 2000
STALE_DAYS: Final = 2  # the supervisor page highlights cash older than this


class CashPayment(BaseModel):
    event_id: uuid.UUID
    client_id: uuid.UUID | None
    client_code: str | None  # None: a client this server does not know (money in suspense)
    client_name: str | None
    receipt: str
    amount: Decimal
    paid_on: date
    age_days: int


class CollectorCash(BaseModel):
    collector: str  # username
    full_name: str
    total: Decimal
    payments_count: int
    oldest_days: int | None  # None: no cash in hand
    payments: list[CashPayment]


class CashInHand(BaseModel):
    as_of: date
    total: Decimal
    collectors: list[CollectorCash]


class Handover(BaseModel):
    id: uuid.UUID
    collector: str
    full_name: str
    amount: Decimal
    method: str
    bank_reference: str
    deposited_on: date
    received_at: datetime
    status: str
    hold_reason: str | None
    payments_count: int
    decided_at: datetime | None
    decision_note: str


def in_hand(
    session: Session, actor: Actor, *, today: date, tz: tzinfo, collector: str | None = None
) -> CashInHand:
    """Office: every active collector (zeros included) and anyone else holding cash, or just
    `collector`. A collector: only their own (another username answers 404, like unknown)."""
    only = _collector_id(session, actor, collector)
    rows = cash_repo.cash_in_hand(session, only)
    by_user: dict[uuid.UUID, list[CashPayment]] = defaultdict(list)
    for r in rows:
        paid_on = r.paid_on or r.received_at.astimezone(tz).date()
        by_user[r.user_id].append(
            CashPayment(
                event_id=r.event_id,
                client_id=r.client_id,
                client_code=r.client_code,
                client_name=r.client_name,
                receipt=r.receipt,
                amount=money(r.amount),
                paid_on=paid_on,
                age_days=max((today - paid_on).days, 0),
            )
        )
    people = cash_repo.collectors(session, by_user.keys(), only)
    collectors = []
    for user in people:
        payments = sorted(by_user.get(user.id, []), key=lambda p: (p.paid_on, p.receipt))
        collectors.append(
            CollectorCash(
                collector=user.username,
                full_name=user.full_name,
                total=money(sum((p.amount for p in payments), ZERO)),
                payments_count=len(payments),
                oldest_days=max((p.age_days for p in payments), default=None),
                payments=payments,
            )
        )
    return CashInHand(
        as_of=today,
        total=money(sum((c.total for c in collectors), ZERO)),
        collectors=collectors,
    )


def list_handovers(
    session: Session, actor: Actor, *, status: HandoverStatus | None = None
) -> list[Handover]:
    """Newest first; a collector sees only their own."""
    mine = None if actor.is_office else actor.user_id
    return [_handover(r) for r in cash_repo.handovers(session, status=status, user_id=mine)]


def confirm(
    session: Session,
    actor: Actor,
    handover_id: uuid.UUID,
    *,
    amount: Decimal,
    note: str,
    now: datetime,
) -> Handover:
    require_office(actor)
    handover = _pending(session, handover_id)
    if handover.hold_reason is not None:
        raise Conflict(
            f"this handover is held ({handover.hold_reason}): reject it with a note",
            code="handover_held",
        )
    if money(amount) != handover.amount:
        raise InvalidInput(
            f"the amount seen ({money(amount)}) is not the handover's ({handover.amount}): "
            "reject it with a note",
            code="amount_mismatch",
        )
    voided = cash_repo.reversed_payments(session, handover.id)
    if voided:
        raise Conflict(
            f"{len(voided)} of its payments were voided since: reject it with a note",
            code="handover_payment_voided",
            details={"payment_event_ids": [str(v) for v in voided]},
        )
    return _decide(session, actor, handover, "confirmed", note, now, amount=money(amount))


def reject(
    session: Session, actor: Actor, handover_id: uuid.UUID, *, note: str, now: datetime
) -> Handover:
    require_office(actor)
    if not note.strip():
        raise InvalidInput("say why the handover is rejected", code="note_required")
    return _decide(session, actor, _pending(session, handover_id), "rejected", note, now)


def _collector_id(session: Session, actor: Actor, collector: str | None) -> uuid.UUID | None:
    if not actor.is_office:
        if collector is not None and collector != actor.username:
            raise NotFound(f"no collector {collector!r}", code="collector_not_found")
        return actor.user_id
    if collector is None:
        return None
    user = users_repo.get_user_by_username(session, collector)
    if user is None:
        raise NotFound(f"no collector {collector!r}", code="collector_not_found")
    return user.id


def _pending(session: Session, handover_id: uuid.UUID) -> CashHandover:
    handover = cash_repo.lock_handover(session, handover_id)
    if handover is None:
        raise NotFound("no such handover", code="handover_not_found")
    if handover.status != "pending":
        raise Conflict(f"this handover is already {handover.status}", code="handover_decided")
    return handover


def _decide(
    session: Session,
    actor: Actor,
    handover: CashHandover,
    status: str,
    note: str,
    now: datetime,
    *,
    amount: Decimal | None = None,
) -> Handover:
    note = note.strip()
    handover.status = status
    handover.decided_by = actor.user_id
    handover.decided_at = now
    handover.decision_note = note
    details: dict[str, object] = {"note": note, "amount": str(handover.amount)}
    if amount is not None:
        details["amount_seen"] = str(amount)
    audit_repo.record(
        session,
        actor_id=actor.user_id,
        action=f"cash_handover_{status}",
        entity="cash_handover",
        entity_id=handover.id,
        details=details,
    )
    if handover.event_id is not None:
        session.execute(
            update(ReviewItem)
            .where(ReviewItem.event_id == handover.event_id, ReviewItem.status == "open")
            .values(
                status="resolved",
                resolved_at=now,
                resolved_by=actor.user_id,
                resolution=f"handover_{status}",
                note=note,
            )
        )
    session.flush()
    (row,) = cash_repo.handovers(session, handover_id=handover.id)
    if handover.event_id is not None:  # last: the counter is the transaction's last lock
        changes.event_statuses(session, handover.user_id, [(handover.event_id, status, note)])
    return _handover(row)


def _handover(r: cash_repo.HandoverRow) -> Handover:
    h = r.handover
    return Handover(
        id=h.id,
        collector=r.username,
        full_name=r.full_name,
        amount=h.amount,
        method=h.method,
        bank_reference=h.bank_reference,
        deposited_on=h.deposited_on,
        received_at=h.received_at,
        status=h.status,
        hold_reason=h.hold_reason,
        payments_count=r.payments,
        decided_at=h.decided_at,
        decision_note=h.decision_note,
    )
