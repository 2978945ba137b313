"""Queries over received visits: weekly counts per collector, a collector's weeks, the flagged
visits of a period. Every count is one GROUP BY in the database over the (user_id, business_date)
index (`ix_visit_user_date`); nothing is counted row by row in Python."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Select, any_, case, distinct, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from server.db.models import Client, User, Visit
from shared.visits import EFFECTIVE_OUTCOMES, unflagged_forms


@dataclass(frozen=True)
class Counts:
    visits: int
    effective_contacts: int
    verified_visits: int
    clients_visited: int
    flagged_visits: int


@dataclass(frozen=True)
class CollectorCounts:
    user_id: uuid.UUID
    username: str
    full_name: str
    counts: Counts


@dataclass(frozen=True)
class FlaggedRow:
    visit_id: int
    event_id: uuid.UUID
    user_id: uuid.UUID
    username: str
    client_id: uuid.UUID
    client_code: str | None  # None: a client this server does not know
    client_name: str | None
    business_date: date | None
    device_time: datetime
    received_at: datetime
    outcome: str
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    distance_m: float | None
    verified: bool
    flags: str


class week_monday(FunctionElement[date]):
    """The Monday of a date's ISO week, computed by the database."""

    type = Date()
    inherit_cache = True


@compiles(week_monday, "postgresql")
def _week_monday_pg(element: week_monday, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(date_trunc('week', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(week_monday, "sqlite")
def _week_monday_sqlite(element: week_monday, compiler: SQLCompiler, **kw: Any) -> str:
    day = compiler.process(element.clauses, **kw)
    # strftime('%w'): 0 = Sunday .. 6 = Saturday; Monday is (w + 6) % 7 days back.
    return f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')"


def _aggregates() -> tuple[Any, ...]:
    return (
        func.count(Visit.id),
        func.coalesce(
            func.sum(case((Visit.outcome.in_(sorted(EFFECTIVE_OUTCOMES)), 1), else_=0)), 0
        ),
        func.coalesce(func.sum(case((Visit.verified, 1), else_=0)), 0),
        func.count(distinct(Visit.client_id)),
        func.coalesce(func.sum(case((Visit.flags.not_in(unflagged_forms()), 1), else_=0)), 0),
    )


def _counts(values: Any) -> Counts:
    return Counts(*(int(v or 0) for v in values))


def counts_by_collector(
    session: Session, start: date, end: date, *, username: str | None = None
) -> list[CollectorCounts]:
    """Per collector, the visits with business_date in [start, end]: every active collector (with
    zeros) and anyone else who has visits in the range, by username.

    The plan, on 8 million visits: the visits are found through `ix_visit_user_date` with the
    users' ids as an index condition (`user_id = ANY(ARRAY(SELECT id ...))` on PostgreSQL, which
    otherwise reads the whole table, since no index leads with the date), counted per
    (collector, client) by hash and then per collector: distinct clients without a sort."""
    users = select(User.id)
    if username is not None:
        users = users.where(User.username == username)
    if session.get_bind().dialect.name == "postgresql":
        among = Visit.user_id == any_(func.array(users.scalar_subquery()))
    else:
        among = Visit.user_id.in_(users)
    flagged = Visit.flags.not_in(unflagged_forms())
    per_client = (
        select(
            Visit.user_id,
            func.count().label("visits"),
            func.sum(case((Visit.outcome.in_(sorted(EFFECTIVE_OUTCOMES)), 1), else_=0)).label(
                "effective"
            ),
            func.sum(case((Visit.verified, 1), else_=0)).label("verified"),
            func.sum(case((flagged, 1), else_=0)).label("flagged"),
        )
        .where(among, Visit.business_date >= start, Visit.business_date <= end)
        .group_by(Visit.user_id, Visit.client_id)
        .subquery()
    )
    per_user = (
        select(
            per_client.c.user_id,
            func.sum(per_client.c.visits).label("visits"),
            func.sum(per_client.c.effective).label("effective"),
            func.sum(per_client.c.verified).label("verified"),
            func.count().label("clients"),
            func.sum(per_client.c.flagged).label("flagged"),
        )
        .group_by(per_client.c.user_id)
        .subquery()
    )
    query = (
        select(
            User.id,
            User.username,
            User.full_name,
            per_user.c.visits,
            per_user.c.effective,
            per_user.c.verified,
            per_user.c.clients,
            per_user.c.flagged,
        )
        .outerjoin(per_user, per_user.c.user_id == User.id)
        .where(per_user.c.user_id.is_not(None) | ((User.role == "collector") & User.active))
        .order_by(User.username)
    )
    if username is not None:
        query = query.where(User.username == username)
    return [CollectorCounts(r[0], r[1], r[2], _counts(r[3:])) for r in session.execute(query)]


def counts_by_week(
    session: Session, user_id: uuid.UUID, start: date, end: date
) -> dict[date, Counts]:
    """One collector's visits with business_date in [start, end], per ISO week (its Monday)."""
    monday = week_monday(Visit.business_date)
    query = (
        select(monday, *_aggregates())
        .where(Visit.user_id == user_id, Visit.business_date >= start, Visit.business_date <= end)
        .group_by(monday)
    )
    return {r[0]: _counts(r[1:]) for r in session.execute(query)}


def flagged(
    session: Session, start: date, end: date, *, user_id: uuid.UUID | None = None
) -> list[FlaggedRow]:
    """The flagged visits with business_date in [start, end], oldest first."""
    query: Select[*tuple[Any, ...]] = (
        select(
            Visit.id,
            Visit.event_id,
            Visit.user_id,
            User.username,
            Visit.client_id,
            Client.code,
            Client.name,
            Visit.business_date,
            Visit.device_time,
            Visit.received_at,
            Visit.outcome,
            Visit.lat,
            Visit.lon,
            Visit.accuracy_m,
            Visit.distance_m,
            Visit.verified,
            Visit.flags,
        )
        .join(User, User.id == Visit.user_id)
        .outerjoin(Client, Client.id == Visit.client_id)
        .where(
            Visit.business_date >= start,
            Visit.business_date <= end,
            Visit.flags.not_in(unflagged_forms()),
        )
        .order_by(Visit.business_date, Visit.device_time, Visit.id)
    )
    if user_id is not None:
        query = query.where(Visit.user_id == user_id)
    return [FlaggedRow(*r) for r in session.execute(query)]


def user_id(session: Session, username: str) -> uuid.UUID | None:
    return session.scalar(select(User.id).where(User.username == username))
