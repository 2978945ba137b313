"""The per-client facts the portfolio segmentation groups (server/services/segmentation.py): one
set-based query per fact, whatever the number of clients. Portable SQL only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from server.db.models import (
    AgreementInstallment,
    Client,
    Dispute,
    Invoice,
    LedgerEntry,
    LegalReferral,
    PaymentAgreement,
    User,
)
from server.repositories.legal import OPEN_STATUSES
from shared.money import ZERO


@dataclass(frozen=True)
class ClientFacts:
    id: uuid.UUID
    segment: str
    status: str
    balance: Decimal
    overdue: Decimal  # open balance of invoices past due today
    oldest_open_due: date | None  # the oldest invoice that still owes something


def client_facts(session: Session, today: date, collector: str | None = None) -> list[ClientFacts]:
    owing = Invoice.balance > ZERO
    invoices = (
        select(
            Invoice.client_id.label("client_id"),
            func.sum(case((Invoice.due_date < today, Invoice.balance), else_=ZERO)).label(
                "overdue"
            ),
            func.min(Invoice.due_date).label("oldest"),
        )
        .where(owing)
        .group_by(Invoice.client_id)
        .subquery("owing")
    )
    stmt = (
        select(
            Client.id,
            Client.segment,
            Client.status,
            Client.balance,
            invoices.c.overdue,
            invoices.c.oldest,
        )
        .outerjoin(invoices, invoices.c.client_id == Client.id)
        .order_by(Client.code)
    )
    if collector is not None:
        stmt = stmt.join(User, User.id == Client.collector_id).where(User.username == collector)
    return [
        ClientFacts(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4] if r[4] is not None else ZERO,
            date.fromisoformat(r[5]) if isinstance(r[5], str) else r[5],
        )
        for r in session.execute(stmt).all()
    ]


def open_disputed(session: Session) -> dict[uuid.UUID, Decimal]:
    """Per client, the amount of its glosas and devoluciones still open."""
    rows = session.execute(
        select(Dispute.client_id, func.sum(Dispute.amount))
        .where(Dispute.status == "open")
        .group_by(Dispute.client_id)
    ).all()
    return {r[0]: r[1] for r in rows}


def in_legal(session: Session) -> set[uuid.UUID]:
    return set(
        session.scalars(
            select(LegalReferral.client_id).where(LegalReferral.status.in_(OPEN_STATUSES))
        ).all()
    )


@dataclass(frozen=True)
class AgreementRow:
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    status: str  # proposed | active
    proposed_at: datetime
    due_date: date | None  # one row per installment (None: an agreement without any)
    amount: Decimal | None


def live_agreements(session: Session) -> list[AgreementRow]:
    """Proposed and active agreements, one row per installment."""
    rows = session.execute(
        select(
            PaymentAgreement.id,
            PaymentAgreement.client_id,
            PaymentAgreement.status,
            PaymentAgreement.proposed_at,
            AgreementInstallment.due_date,
            AgreementInstallment.amount,
        )
        .outerjoin(AgreementInstallment, AgreementInstallment.agreement_id == PaymentAgreement.id)
        .where(PaymentAgreement.status.in_(("proposed", "active")))
        .order_by(PaymentAgreement.id, AgreementInstallment.seq)
    ).all()
    return [AgreementRow(r[0], r[1], r[2], _aware(r[3]), r[4], r[5]) for r in rows]


def standing_payments(
    session: Session, client_ids: set[uuid.UUID], since: date
) -> list[tuple[uuid.UUID, date, Decimal]]:
    """(client, effective date, amount > 0) of the clients' payments on or after `since` that
    were not reversed."""
    if not client_ids:
        return []
    reversal = aliased(LedgerEntry)
    rows = session.execute(
        select(LedgerEntry.client_id, LedgerEntry.effective_date, LedgerEntry.amount).where(
            LedgerEntry.client_id.in_(list(client_ids)),
            LedgerEntry.kind == "payment",
            LedgerEntry.effective_date >= since,
            ~select(reversal.id).where(reversal.reverses_id == LedgerEntry.id).exists(),
        )
    ).all()
    return [(r[0], r[1], -r[2]) for r in rows]


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they are stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
