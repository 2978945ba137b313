"""Proposing a payment agreement and opening a dispute (glosa / devolución) from the field: each
writes its event and outbox row in ONE local transaction, like every field action. The server
keeps the agreement or dispute under the event's id, which is how the phone later recognises
its own proposal in the mirror."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import ClientMirror
from mobile.services.recording import Recorded, _append, _build, _client_uuid, _next_seq
from shared.calendar import require_aware
from shared.errors import InvalidInput, NotFound
from shared.money import ZERO, money
from sync.protocol import AgreementProposed, DisputeKind, DisputeOpened, DisputeReason

AGREEMENT_PROPOSED = "agreement.proposed"
DISPUTE_OPENED = "dispute.opened"


def record_agreement(
    db: sessionmaker[Session],
    *,
    client_id: str | uuid.UUID,
    installments: Sequence[tuple[date, Decimal]],
    now: datetime,
    notes: str = "",
) -> Recorded:
    """Queue `agreement.proposed` with its schedule; the office approves or rejects it."""
    payload = _build(
        AgreementProposed,
        installments=tuple(
            {"due_date": due, "amount": money(amount)} for due, amount in installments
        ),
        notes=notes.strip(),
    )
    total = sum((i.amount for i in payload.installments), ZERO)
    require_aware(now, "now")
    with db.begin() as session:
        seq, _ = _next_seq(session)
        row = _append(
            session,
            event_type=AGREEMENT_PROPOSED,
            client_id=_client_uuid(client_id),
            now=now,
            payload=payload,
            device_seq=seq,
            amount=total,
        )
    return Recorded(row.event_id, seq)


def invoice_balance(session: Session, client_id: str, invoice_number: str) -> Decimal:
    """The open balance of one of the client's invoices as of the last pull."""
    client = session.get(ClientMirror, client_id)
    if client is None:
        raise NotFound("cliente no encontrado en este teléfono", code="client_not_found")
    for item in client.open_invoices or []:
        if str(item.get("number")) == invoice_number:
            return money(str(item.get("balance", "0")))
    raise NotFound(
        f"la factura {invoice_number} no está abierta para este cliente", code="invoice_not_open"
    )


def record_dispute(
    db: sessionmaker[Session],
    *,
    client_id: str | uuid.UUID,
    invoice_number: str,
    amount: Decimal,
    kind: DisputeKind,
    reason_code: DisputeReason,
    now: datetime,
    notes: str = "",
) -> Recorded:
    """Queue `dispute.opened` on one of the client's open invoices, for at most its balance."""
    payload = _build(
        DisputeOpened,
        invoice_number=invoice_number,
        amount=money(amount),
        kind=kind,
        reason_code=reason_code,
        notes=notes.strip(),
    )
    client = _client_uuid(client_id)
    require_aware(now, "now")
    with db.begin() as session:
        balance = invoice_balance(session, str(client), invoice_number)
        if payload.amount > balance:
            raise InvalidInput(
                f"el valor supera el saldo de la factura ({balance})",
                code="dispute_over_balance",
                details={"balance": str(balance)},
            )
        seq, _ = _next_seq(session)
        row = _append(
            session,
            event_type=DISPUTE_OPENED,
            client_id=client,
            now=now,
            payload=payload,
            device_seq=seq,
            amount=payload.amount,
        )
    return Recorded(row.event_id, seq)
