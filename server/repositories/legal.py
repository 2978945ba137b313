"""Queries on law firms and legal referrals (cobro jurídico). Portable SQL only: every query here
answers the same on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server.db.models import (
    Client,
    Invoice,
    LawFirm,
    LegalReferral,
    LegalReferralUpdate,
    User,
)
from server.repositories.kpis import Scope

OPEN_STATUSES = ("referred", "in_progress")
POSITIVE_OUTCOMES = ("recovered", "agreement")


def firms(session: Session, *, active_only: bool = False) -> Sequence[LawFirm]:
    stmt = select(LawFirm).order_by(LawFirm.name)
    if active_only:
        stmt = stmt.where(LawFirm.active)
    return session.scalars(stmt).all()


def firm(session: Session, firm_id: uuid.UUID) -> LawFirm | None:
    return session.get(LawFirm, firm_id)


def firm_named(session: Session, name: str) -> LawFirm | None:
    return session.scalar(select(LawFirm).where(func.lower(LawFirm.name) == name.lower()))


def open_referral(session: Session, client_id: uuid.UUID) -> LegalReferral | None:
    return session.scalar(
        select(LegalReferral).where(
            LegalReferral.client_id == client_id, LegalReferral.status.in_(OPEN_STATUSES)
        )
    )


def clients_in_legal(session: Session, client_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these clients have a referral still open (one query)."""
    if not client_ids:
        return set()
    return set(
        session.scalars(
            select(LegalReferral.client_id).where(
                LegalReferral.client_id.in_(list(client_ids)),
                LegalReferral.status.in_(OPEN_STATUSES),
            )
        ).all()
    )


def open_invoice_balances(
    session: Session, client_id: uuid.UUID, numbers: Collection[str]
) -> dict[str, Decimal]:
    """Today's balance of each of the client's invoices named in `numbers` (absent: not its)."""
    rows = session.execute(
        select(Invoice.number, Invoice.balance).where(
            Invoice.client_id == client_id, Invoice.number.in_(list(numbers))
        )
    ).all()
    return {r[0]: r[1] for r in rows}


@dataclass(frozen=True)
class ReferralRow:
    referral: LegalReferral
    client_code: str
    client_name: str
    client_tax_id: str
    firm_name: str
    referred_by: str


def _referral_rows() -> Select[LegalReferral, str, str, str, str, str]:
    return (
        select(LegalReferral, Client.code, Client.name, Client.tax_id, LawFirm.name, User.username)
        .join(Client, Client.id == LegalReferral.client_id)
        .join(LawFirm, LawFirm.id == LegalReferral.law_firm_id)
        .join(User, User.id == LegalReferral.referred_by)
    )


def referrals(
    session: Session,
    *,
    status: str | None = None,
    firm_id: uuid.UUID | None = None,
    outcome: str | None = None,
    client_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
) -> tuple[list[ReferralRow], int]:
    """A page of referrals, newest first, and how many match (`status="open"`: referred or in
    progress)."""
    stmt = _referral_rows()
    if status == "open":
        stmt = stmt.where(LegalReferral.status.in_(OPEN_STATUSES))
    elif status is not None:
        stmt = stmt.where(LegalReferral.status == status)
    if firm_id is not None:
        stmt = stmt.where(LegalReferral.law_firm_id == firm_id)
    if outcome is not None:
        stmt = stmt.where(LegalReferral.outcome == outcome)
    if client_id is not None:
        stmt = stmt.where(LegalReferral.client_id == client_id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(
        stmt.order_by(LegalReferral.referred_at.desc(), LegalReferral.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [ReferralRow(*r) for r in rows], total


def referral(session: Session, referral_id: uuid.UUID) -> ReferralRow | None:
    row = session.execute(_referral_rows().where(LegalReferral.id == referral_id)).first()
    return None if row is None else ReferralRow(*row)


def lock_referral(session: Session, referral_id: uuid.UUID) -> LegalReferral | None:
    return session.scalar(
        select(LegalReferral).where(LegalReferral.id == referral_id).with_for_update()
    )


def updates(
    session: Session, referral_ids: Collection[uuid.UUID]
) -> list[tuple[LegalReferralUpdate, str]]:
    """The referrals' history, oldest first, with who wrote each line (one query)."""
    if not referral_ids:
        return []
    rows = session.execute(
        select(LegalReferralUpdate, User.username)
        .join(User, User.id == LegalReferralUpdate.by)
        .where(LegalReferralUpdate.referral_id.in_(list(referral_ids)))
        .order_by(LegalReferralUpdate.at, LegalReferralUpdate.id)
    ).all()
    return [(r[0], r[1]) for r in rows]


def referred_client_ids(session: Session) -> set[uuid.UUID]:
    """Clients with a referral still open (the suggestion leaves them out)."""
    return set(
        session.scalars(
            select(LegalReferral.client_id).where(LegalReferral.status.in_(OPEN_STATUSES))
        ).all()
    )


@dataclass(frozen=True)
class LegalCounts:
    referred: int
    closed: int
    positive: int


def legal_counts(session: Session, start: datetime, end: datetime, scope: Scope) -> LegalCounts:
    """Referrals made in `start..end` (half-open), and those closed in it (and how many of
    those positively), by the client's current collector and segment like the portfolio KPIs."""

    def count(*where: object) -> int:
        stmt = scope.narrow(
            select(func.count(LegalReferral.id))
            .select_from(LegalReferral)
            .join(Client, Client.id == LegalReferral.client_id)
            .outerjoin(User, User.id == Client.collector_id)
            .where(*where)  # type: ignore[arg-type]
        )
        return int(session.scalar(stmt) or 0)

    closed = (
        LegalReferral.status == "closed",
        LegalReferral.closed_at >= start,
        LegalReferral.closed_at < end,
    )
    return LegalCounts(
        referred=count(LegalReferral.referred_at >= start, LegalReferral.referred_at < end),
        closed=count(*closed),
        positive=count(*closed, LegalReferral.outcome.in_(POSITIVE_OUTCOMES)),
    )
