"""Queries behind the paz y salvo (server/services/clearance.py). Portable SQL only."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import ClearanceCertificate, Client, Dispute, LedgerEntry, User
from shared.money import ZERO


def balance_as_of(session: Session, client_id: uuid.UUID, as_of: date) -> Decimal:
    """What the client owed at the end of `as_of`: its entries effective on or before that day."""
    total = session.scalar(
        select(func.sum(LedgerEntry.amount)).where(
            LedgerEntry.client_id == client_id, LedgerEntry.effective_date <= as_of
        )
    )
    return total if total is not None else ZERO


def open_disputes(session: Session, client_id: uuid.UUID) -> tuple[int, Decimal]:
    """How many glosas / devoluciones of the client are still open, and their amount."""
    row = session.execute(
        select(func.count(Dispute.id), func.sum(Dispute.amount)).where(
            Dispute.client_id == client_id, Dispute.status == "open"
        )
    ).one()
    return int(row[0] or 0), row[1] if row[1] is not None else ZERO


def certificate(
    session: Session, certificate_id: uuid.UUID
) -> tuple[ClearanceCertificate, Client, str] | None:
    """The certificate, its client and who issued it."""
    row = session.execute(
        select(ClearanceCertificate, Client, User.username)
        .join(Client, Client.id == ClearanceCertificate.client_id)
        .join(User, User.id == ClearanceCertificate.issued_by)
        .where(ClearanceCertificate.id == certificate_id)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def by_code(session: Session, code: str) -> tuple[ClearanceCertificate, Client] | None:
    """The certificate with this code (a unique index: one lookup whatever the code)."""
    row = session.execute(
        select(ClearanceCertificate, Client)
        .join(Client, Client.id == ClearanceCertificate.client_id)
        .where(ClearanceCertificate.code == code)
    ).first()
    return None if row is None else (row[0], row[1])


def of_client(
    session: Session, client_id: uuid.UUID, limit: int = 20
) -> list[ClearanceCertificate]:
    """The client's latest certificates, newest first."""
    return list(
        session.scalars(
            select(ClearanceCertificate)
            .where(ClearanceCertificate.client_id == client_id)
            .order_by(ClearanceCertificate.issued_at.desc())
            .limit(limit)
        ).all()
    )
