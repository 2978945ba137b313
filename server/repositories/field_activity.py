"""Queries over what one collector did in the field on one business day: the route plan in force,
the visits, the payment and void events as received, the promises. Portable SQL only."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Client, InboundEvent, Promise, RoutePlan, User, Visit


def collector_by_username(session: Session, username: str) -> User | None:
    return session.scalars(
        select(User).where(User.username == username, User.role == "collector")
    ).first()


def collectors(session: Session) -> Sequence[User]:
    return session.scalars(
        select(User).where(User.role == "collector", User.active.is_(True)).order_by(User.username)
    ).all()


def latest_route_plan(session: Session, user_id: uuid.UUID, day: date) -> RoutePlan | None:
    """The plan in force on `day`: the latest the phone made (a re-plan is a new row)."""
    return session.scalars(
        select(RoutePlan)
        .where(RoutePlan.user_id == user_id, RoutePlan.plan_date == day)
        .order_by(RoutePlan.device_time.desc(), RoutePlan.id.desc())
        .limit(1)
    ).first()


def visits_of_day(session: Session, user_id: uuid.UUID, day: date) -> Sequence[Visit]:
    """The visits in the order they happened on the phone's clock."""
    return session.scalars(
        select(Visit)
        .where(Visit.user_id == user_id, Visit.business_date == day)
        .order_by(Visit.device_time, Visit.id)
    ).all()


def events_between(
    session: Session, user_id: uuid.UUID, kinds: Collection[str], start: datetime, end: datetime
) -> Sequence[InboundEvent]:
    """The collector's events of these types with a device time in `[start, end)`."""
    return session.scalars(
        select(InboundEvent)
        .where(
            InboundEvent.user_id == user_id,
            InboundEvent.type.in_(list(kinds)),
            InboundEvent.device_time >= start,
            InboundEvent.device_time < end,
        )
        .order_by(InboundEvent.device_time, InboundEvent.server_seq)
    ).all()


def voids_since(session: Session, user_id: uuid.UUID, start: datetime) -> Sequence[InboundEvent]:
    """The collector's applied voids from `start` on (a payment is voided after it was taken)."""
    return session.scalars(
        select(InboundEvent).where(
            InboundEvent.user_id == user_id,
            InboundEvent.type == "payment.voided",
            InboundEvent.status == "applied",
            InboundEvent.device_time >= start,
        )
    ).all()


def promises_between(
    session: Session, user_id: uuid.UUID, start: datetime, end: datetime
) -> Sequence[Promise]:
    return session.scalars(
        select(Promise)
        .where(Promise.user_id == user_id, Promise.device_time >= start, Promise.device_time < end)
        .order_by(Promise.device_time)
    ).all()


def clients_by_id(session: Session, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Client]:
    if not ids:
        return {}
    rows = session.scalars(select(Client).where(Client.id.in_(list(ids))))
    return {c.id: c for c in rows}


def visits_per_day(session: Session, first: date, last: date) -> dict[tuple[uuid.UUID, date], int]:
    """How many visits each collector made on each business day from `first` to `last`."""
    rows = session.execute(
        select(Visit.user_id, Visit.business_date, func.count())
        .where(Visit.business_date >= first, Visit.business_date <= last)
        .group_by(Visit.user_id, Visit.business_date)
    )
    return {(user_id, day): int(n) for user_id, day, n in rows if day is not None}


def team_events_between(
    session: Session, kinds: Collection[str], start: datetime, end: datetime
) -> Sequence[InboundEvent]:
    """Every collector's events of these types with a device time in `[start, end)`."""
    return session.scalars(
        select(InboundEvent).where(
            InboundEvent.type.in_(list(kinds)),
            InboundEvent.device_time >= start,
            InboundEvent.device_time < end,
        )
    ).all()


def team_voids_since(session: Session, start: datetime) -> Sequence[InboundEvent]:
    return session.scalars(
        select(InboundEvent).where(
            InboundEvent.type == "payment.voided",
            InboundEvent.status == "applied",
            InboundEvent.device_time >= start,
        )
    ).all()


def team_promises_between(session: Session, start: datetime, end: datetime) -> Sequence[Promise]:
    return session.scalars(
        select(Promise).where(Promise.device_time >= start, Promise.device_time < end)
    ).all()


def client_ids_by_code(session: Session) -> dict[str, uuid.UUID]:
    return {code: cid for cid, code in session.execute(select(Client.id, Client.code))}
