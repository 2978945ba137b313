"""Cash in hand and its handover (issue 7): the cash payments recorded on this phone that were
not voided and not yet handed over, and the `cash.handed_over` event that hands some of them to
the bank or the office.

A handover is stored (`cash_handover`) in the same local transaction as its outbox row. Its
payments stay out of cash in hand unless the server rejects it: the supervisor's decision comes
back as an `event_status` of the handover's id (`confirmed` / `rejected`), and a rejected
handover's payments are cash in hand again, ready for a new handover.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import CashHandoverRow, EventStatus, OutboxRow
from mobile.services.recording import Recorded, _append, _build, _next_seq
from shared.calendar import business_date, require_aware
from shared.errors import InvalidInput
from shared.money import ZERO
from sync.protocol import NO_CLIENT, CashHandedOver, HandoverMethod

CASH_HANDED_OVER = "cash.handed_over"
REJECTED = "rejected"


@dataclass(frozen=True)
class CashPayment:
    event_id: str
    client_id: str
    receipt_no: str
    amount: Decimal
    at: datetime  # the phone's clock when it was recorded


@dataclass(frozen=True)
class Handover:
    event_id: str
    method: str
    bank_reference: str
    deposited_on: date
    amount: Decimal
    payments: int
    created_at: datetime
    state: str  # the outbox row's: pending / acked / held / conflict ("acked" once purged)
    reason: str  # why it was held, when it was
    decision: str  # the server's later word (event_status): "", confirmed, rejected, ...
    note: str


def handed_over_ids(session: Session) -> set[str]:
    """Payments covered by a handover the server has not rejected."""
    rejected = set(
        session.scalars(
            select(EventStatus.event_id)
            .join(CashHandoverRow, CashHandoverRow.event_id == EventStatus.event_id)
            .where(EventStatus.status == REJECTED)
        )
    )
    covered: set[str] = set()
    for event_id, ids in session.execute(
        select(CashHandoverRow.event_id, CashHandoverRow.payment_event_ids)
    ):
        if event_id not in rejected:
            covered.update(str(i) for i in ids or ())
    return covered


def cash_in_hand(session: Session) -> list[CashPayment]:
    """This phone's cash payments not voided and not handed over, oldest first."""
    rows = session.scalars(
        select(OutboxRow)
        .where(OutboxRow.type.in_(("payment.collected", "payment.voided")))
        .order_by(OutboxRow.device_seq)
    ).all()
    voided = {r.ref_event_id for r in rows if r.type == "payment.voided"}
    gone = voided | handed_over_ids(session)
    cash = []
    for r in rows:
        if r.type != "payment.collected" or r.event_id in gone:
            continue
        payload = json.loads(r.payload)
        if payload.get("method") != "cash":
            continue
        cash.append(
            CashPayment(
                event_id=r.event_id,
                client_id=r.client_id,
                receipt_no=str(payload.get("receipt_no", "")),
                amount=r.amount or ZERO,
                at=datetime.fromisoformat(r.device_time),
            )
        )
    return cash


def load_cash_in_hand(db: sessionmaker[Session]) -> list[CashPayment]:
    with db() as session:
        return cash_in_hand(session)


def load_handovers(db: sessionmaker[Session]) -> list[Handover]:
    """Every handover made on this phone, newest first, with where it stands."""
    with db() as session:
        rows = session.execute(
            select(CashHandoverRow, OutboxRow.state, OutboxRow.status_reason, EventStatus)
            .outerjoin(OutboxRow, OutboxRow.event_id == CashHandoverRow.event_id)
            .outerjoin(EventStatus, EventStatus.event_id == CashHandoverRow.event_id)
            .order_by(CashHandoverRow.created_at.desc(), OutboxRow.device_seq.desc())
        ).all()
        return [
            Handover(
                event_id=row.event_id,
                method=row.method,
                bank_reference=row.bank_reference,
                deposited_on=row.deposited_on,
                amount=row.amount,
                payments=len(row.payment_event_ids or ()),
                created_at=row.created_at,
                state=state or "acked",
                reason=reason or "",
                decision=status.status if status is not None else "",
                note=status.note if status is not None else "",
            )
            for row, state, reason, status in rows
        ]


def record_handover(
    db: sessionmaker[Session],
    *,
    method: HandoverMethod,
    deposited_on: date,
    payment_event_ids: Sequence[str],
    now: datetime,
    bank_reference: str = "",
    tz: tzinfo | str | None = None,
) -> Recorded:
    """Hand over some of the cash in hand: the event (client NO_CLIENT) with the amount those
    payments add up to, and the local handover row, both or neither."""
    require_aware(now, "now")
    reference = bank_reference.strip()
    if method == "bank_deposit" and not reference:
        raise InvalidInput(
            "indique la referencia de la consignación", code="bank_reference_required"
        )
    if deposited_on > business_date(now, tz):
        raise InvalidInput("la fecha de entrega no puede ser futura", code="handover_date_future")
    chosen = list(dict.fromkeys(str(i) for i in payment_event_ids))
    if not chosen:
        raise InvalidInput("elija al menos un pago", code="handover_no_payments")
    with db.begin() as session:
        in_hand = {p.event_id: p for p in cash_in_hand(session)}
        missing = [i for i in chosen if i not in in_hand]
        if missing:
            raise InvalidInput(
                "hay pagos que ya no están en efectivo en mano",
                code="handover_payment_not_in_hand",
                details={"payment_event_ids": missing},
            )
        amount = sum((in_hand[i].amount for i in chosen), ZERO)
        payload = _build(
            CashHandedOver,
            amount=amount,
            method=method,
            bank_reference=reference,
            deposited_on=deposited_on,
            payment_event_ids=tuple(chosen),
        )
        seq, _ = _next_seq(session)
        row = _append(
            session,
            event_type=CASH_HANDED_OVER,
            client_id=NO_CLIENT,
            now=now,
            payload=payload,
            device_seq=seq,
            amount=amount,
        )
        session.add(
            CashHandoverRow(
                event_id=row.event_id,
                method=method,
                bank_reference=reference,
                deposited_on=deposited_on,
                amount=amount,
                payment_event_ids=chosen,
                created_at=now,
            )
        )
    return Recorded(row.event_id, seq)
