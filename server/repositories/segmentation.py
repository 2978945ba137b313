"""The per-client facts the portfolio segmentation groups (server/services/segmentation.py): one
set-based query per fact, whatever the number of clients. Portable SQL only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from server.db.models import (
    Client,
    Dispute,
    Invoice,
    User,
)
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
