"""Field actions: each writes its event and outbox row in ONE local transaction (with the next
`device_seq`, and for a payment the receipt number), so a crash keeps both or neither."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import OutboxRow
from mobile.services.device import sync_state
from shared.calendar import business_date, require_aware
from shared.errors import Conflict, InvalidInput, NotFound
from shared.money import money
from sync.protocol import (
    PaymentCollected,
    PaymentMethod,
    PaymentVoided,
    PromiseMade,
    VisitOutcome,
    VisitRecorded,
)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Recorded:
    event_id: str
    device_seq: int


@dataclass(frozen=True)
class Receipt:
    """What the collector hands the client; `receipt_no` is `<device_code>-<device_seq:06d>`."""

    event_id: str
    device_seq: int
    receipt_no: str
    client_id: str
    amount: Decimal
    method: str
    device_time: datetime


def receipt_number(device_code: str, device_seq: int) -> str:
    return f"{device_code}-{device_seq:06d}"


def canonical_json(payload: BaseModel) -> str:
    """The payload text stored once and resent byte for byte on every retry."""
    data = payload.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _append(
    session: Session,
    *,
    event_type: str,
    client_id: uuid.UUID,
    now: datetime,
    payload: BaseModel,
    device_seq: int,
    amount: Decimal | None = None,
    ref_event_id: str | None = None,
) -> OutboxRow:
    row = OutboxRow(
        event_id=str(uuid.uuid4()),
        device_seq=device_seq,
        type=event_type,
        type_version=1,
        client_id=str(client_id),
        device_time=now.isoformat(timespec="seconds"),
        payload=canonical_json(payload),
        amount=amount,
        ref_event_id=ref_event_id,
        state="pending",
        attempts=0,
    )
    session.add(row)
    return row


def _next_seq(session: Session) -> tuple[int, str]:
    # The transaction began with BEGIN IMMEDIATE, so no other writer can read the same value.
    state = sync_state(session)
    seq = state.next_device_seq
    state.next_device_seq = seq + 1
    return seq, state.device_code


def _build(model: type[M], **fields: object) -> M:
    """A wire payload, or InvalidInput naming the fields the protocol refuses."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        fields_wrong = sorted({".".join(map(str, e["loc"])) for e in exc.errors()})
        raise InvalidInput(
            f"datos inválidos: {', '.join(fields_wrong)}",
            code="invalid_event",
            details={"fields": fields_wrong},
        ) from exc


def _client_uuid(client_id: str | uuid.UUID) -> uuid.UUID:
    try:
        return client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(client_id)
    except ValueError as exc:
        raise InvalidInput(f"cliente inválido: {client_id!r}", code="invalid_client_id") from exc


def record_visit(
    db: sessionmaker[Session],
    *,
    client_id: str | uuid.UUID,
    outcome: VisitOutcome,
    now: datetime,
    lat: float | None = None,
    lon: float | None = None,
    accuracy_m: float | None = None,
    notes: str = "",
) -> Recorded:
    payload = _build(
        VisitRecorded, outcome=outcome, lat=lat, lon=lon, accuracy_m=accuracy_m, notes=notes
    )
    require_aware(now, "now")
    with db.begin() as session:
        seq, _ = _next_seq(session)
        row = _append(
            session,
            event_type="visit.recorded",
            client_id=_client_uuid(client_id),
            now=now,
            payload=payload,
            device_seq=seq,
        )
    return Recorded(row.event_id, seq)


def record_promise(
    db: sessionmaker[Session],
    *,
    client_id: str | uuid.UUID,
    amount: Decimal,
    due_date: date,
    now: datetime,
    visit_event_id: str | None = None,
) -> Recorded:
    payload = _build(
        PromiseMade,
        amount=money(amount),
        due_date=due_date,
        visit_event_id=visit_event_id or None,
    )
    require_aware(now, "now")
    with db.begin() as session:
        seq, _ = _next_seq(session)
        row = _append(
            session,
            event_type="promise.made",
            client_id=_client_uuid(client_id),
            now=now,
            payload=payload,
            device_seq=seq,
            amount=payload.amount,
        )
    return Recorded(row.event_id, seq)


def record_payment(
    db: sessionmaker[Session],
    *,
    client_id: str | uuid.UUID,
    amount: Decimal,
    method: PaymentMethod,
    now: datetime,
    reference: str | None = None,
    invoice_numbers: Sequence[str] | None = None,
    visit_event_id: str | None = None,
) -> Receipt:
    """Record cash (or a transfer...) taken from a client and return its receipt."""
    amount = money(amount)
    client = _client_uuid(client_id)
    require_aware(now, "now")
    with db.begin() as session:
        seq, code = _next_seq(session)
        receipt_no = receipt_number(code, seq)
        payload = _build(
            PaymentCollected,
            amount=amount,
            method=method,
            receipt_no=receipt_no,
            reference=reference or None,
            invoice_numbers=tuple(invoice_numbers) if invoice_numbers else None,
            visit_event_id=visit_event_id or None,
        )
        row = _append(
            session,
            event_type="payment.collected",
            client_id=client,
            now=now,
            payload=payload,
            device_seq=seq,
            amount=amount,
        )
    return Receipt(row.event_id, seq, receipt_no, str(client), amount, method, now)


def void_payment(
    db: sessionmaker[Session],
    *,
    payment_event_id: str,
    reason: str,
    now: datetime,
    tz: tzinfo | str | None = None,
) -> Recorded:
    """Void a payment recorded on THIS phone on the same business day (a new event; the payment
    row itself is never changed). Later corrections go through the office as a reversal."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("indique el motivo de la anulación", code="void_reason_required")
    require_aware(now, "now")
    with db.begin() as session:
        payment = session.get(OutboxRow, payment_event_id)
        if payment is None or payment.type != "payment.collected":
            raise NotFound("ese pago no fue registrado en este teléfono", code="payment_not_found")
        paid_at = datetime.fromisoformat(payment.device_time)
        if business_date(paid_at, tz) != business_date(now, tz):
            raise Conflict(
                "solo se puede anular un pago el mismo día en que se registró",
                code="void_window_closed",
            )
        already = session.scalar(
            select(OutboxRow.event_id)
            .where(OutboxRow.type == "payment.voided", OutboxRow.ref_event_id == payment_event_id)
            .limit(1)
        )
        if already is not None:
            raise Conflict("ese pago ya fue anulado", code="payment_already_voided")
        from mobile.services.cash import handed_over_ids  # cash builds on this module

        if payment_event_id in handed_over_ids(session):
            raise Conflict(
                "ese pago ya se entregó en una entrega de efectivo; la corrección va por la"
                " oficina",
                code="payment_handed_over",
            )
        seq, _ = _next_seq(session)
        row = _append(
            session,
            event_type="payment.voided",
            client_id=uuid.UUID(payment.client_id),
            now=now,
            payload=_build(PaymentVoided, payment_event_id=payment_event_id, reason=reason),
            device_seq=seq,
            amount=payment.amount,
            ref_event_id=payment_event_id,
        )
    return Recorded(row.event_id, seq)
