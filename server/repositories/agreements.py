"""Reads and writes of payment agreements (acuerdos de pago) and what their compliance needs: the
installments and the payments that still stand, by business date. Never commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from server.db.models import (
    AgreementInstallment,
    Client,
    LedgerEntry,
    PaymentAgreement,
    User,
)

# The agreements a collector's phone carries and whose standing matters.
OPEN_STATUSES = ("proposed", "active")


@dataclass
class AgreementRow:
    """An agreement with its client, the people involved and its installments (in due order)."""

    agreement: PaymentAgreement
    client_code: str
    client_name: str
    collector_id: uuid.UUID | None
    collector: str | None
    proposed_by: str
    decided_by: str | None
    installments: list[tuple[date, Decimal]] = field(default_factory=list)


def lock_client(session: Session, client_id: uuid.UUID) -> Client | None:
    """The client row, locked: two office decisions about one client's agreements serialize."""
    return session.scalar(select(Client).where(Client.id == client_id).with_for_update())


def client_code(session: Session, client_id: uuid.UUID) -> str | None:
    return session.scalar(select(Client.code).where(Client.id == client_id))


def lock_agreement(session: Session, agreement_id: uuid.UUID) -> PaymentAgreement | None:
    return session.scalar(
        select(PaymentAgreement).where(PaymentAgreement.id == agreement_id).with_for_update()
    )


def active_of_client(
    session: Session, client_id: uuid.UUID, *, other_than: uuid.UUID | None = None
) -> uuid.UUID | None:
    query = select(PaymentAgreement.id).where(
        PaymentAgreement.client_id == client_id, PaymentAgreement.status == "active"
    )
    if other_than is not None:
        query = query.where(PaymentAgreement.id != other_than)
    return session.scalar(query.limit(1))


def add_installments(
    session: Session, agreement_id: uuid.UUID, items: Sequence[tuple[date, Decimal]]
) -> None:
    session.add_all(
        AgreementInstallment(agreement_id=agreement_id, seq=n, due_date=due, amount=amount)
        for n, (due, amount) in enumerate(items, start=1)
    )


def agreements(
    session: Session,
    *,
    ids: Collection[uuid.UUID] | None = None,
    statuses: Collection[str] | None = None,
    collector_id: uuid.UUID | None = None,
    collector_username: str | None = None,
    client_id: uuid.UUID | None = None,
) -> list[AgreementRow]:
    """Agreements matching every filter given, oldest proposal first, each with its installments
    (two queries)."""
    collector = aliased(User)
    proposer = aliased(User)
    decider = aliased(User)
    query = (
        select(
            PaymentAgreement,
            Client.code,
            Client.name,
            Client.collector_id,
            collector.username,
            proposer.username,
            decider.username,
        )
        .join(Client, Client.id == PaymentAgreement.client_id)
        .outerjoin(collector, collector.id == Client.collector_id)
        .join(proposer, proposer.id == PaymentAgreement.proposed_by)
        .outerjoin(decider, decider.id == PaymentAgreement.decided_by)
        .order_by(PaymentAgreement.proposed_at, PaymentAgreement.id)
    )
    if ids is not None:
        query = query.where(PaymentAgreement.id.in_(ids))
    if statuses is not None:
        query = query.where(PaymentAgreement.status.in_(statuses))
    if collector_id is not None:
        query = query.where(Client.collector_id == collector_id)
    if collector_username is not None:
        query = query.where(collector.username == collector_username)
    if client_id is not None:
        query = query.where(PaymentAgreement.client_id == client_id)
    rows = [
        AgreementRow(a, code, name, cid, coll, by, decided)
        for a, code, name, cid, coll, by, decided in session.execute(query)
    ]
    found = {row.agreement.id: row for row in rows}
    for agreement_id, due, amount in installments_of(session, found):
        found[agreement_id].installments.append((due, amount))
    return rows


def installments_of(
    session: Session, agreement_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, date, Decimal]]:
    if not agreement_ids:
        return []
    rows = session.execute(
        select(
            AgreementInstallment.agreement_id,
            AgreementInstallment.due_date,
            AgreementInstallment.amount,
        )
        .where(AgreementInstallment.agreement_id.in_(agreement_ids))
        .order_by(AgreementInstallment.agreement_id, AgreementInstallment.seq)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def open_of_clients(
    session: Session, client_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, str, datetime, date, Decimal]]:
    """(client id, agreement id, status, proposed at, due date, amount) of every installment of
    the proposed and active agreements of these clients, by agreement and installment: the pull's
    one query for a page."""
    if not client_ids:
        return []
    rows = session.execute(
        select(
            PaymentAgreement.client_id,
            PaymentAgreement.id,
            PaymentAgreement.status,
            PaymentAgreement.proposed_at,
            AgreementInstallment.due_date,
            AgreementInstallment.amount,
        )
        .join(AgreementInstallment, AgreementInstallment.agreement_id == PaymentAgreement.id)
        .where(
            PaymentAgreement.client_id.in_(client_ids),
            PaymentAgreement.status.in_(OPEN_STATUSES),
        )
        .order_by(PaymentAgreement.proposed_at, PaymentAgreement.id, AgreementInstallment.seq)
    )
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def payments_since(
    session: Session, client_ids: Collection[uuid.UUID], since: date
) -> dict[uuid.UUID, list[tuple[date, Decimal]]]:
    """(effective date, amount > 0) of each client's payments on or after `since` that were not
    reversed, by client: the money an agreement's compliance counts."""
    found: dict[uuid.UUID, list[tuple[date, Decimal]]] = defaultdict(list)
    if not client_ids:
        return found
    reversal = aliased(LedgerEntry)
    rows = session.execute(
        select(LedgerEntry.client_id, LedgerEntry.effective_date, LedgerEntry.amount).where(
            LedgerEntry.client_id.in_(client_ids),
            LedgerEntry.kind == "payment",
            LedgerEntry.effective_date >= since,
            ~exists().where(reversal.reverses_id == LedgerEntry.id),
        )
    )
    for client_id, day, amount in rows:
        found[client_id].append((day, -amount))
    return found
