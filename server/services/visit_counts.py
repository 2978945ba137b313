"""Weekly visit counts (domain.md, "Weekly visit counts"): per collector and ISO week of the
business timezone, the visits, effective contacts, verified visits, distinct clients and flagged
visits; one collector's weeks of a year; the flagged visits of a period for the supervisor.

A visit's week is the ISO week of its `business_date`, fixed when it was received (its device
time on the business timezone's wall clock, even a skewed clock: such a visit is flagged, and
still counted). These functions do not check roles: the routes and pages that call them do.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy.orm import Session

from server.repositories import visits as visits_repo
from shared.calendar import DEFAULT_TIMEZONE, IsoWeek, weeks_in_year
from shared.errors import InvalidInput
from shared.visits import split_flags


class WeekCounts(BaseModel):
    visits: int = 0
    effective_contacts: int = 0
    verified_visits: int = 0
    clients_visited: int = 0
    flagged_visits: int = 0  # also in `visits`: flagged visits are counted and listed


class CollectorWeek(WeekCounts):
    """One row of the weekly report."""

    collector: str  # username
    collector_id: uuid.UUID
    full_name: str = ""


class WeeklyVisits(BaseModel):
    week: str  # YYYY-Www
    timezone: str
    monday: date
    sunday: date
    rows: list[CollectorWeek]  # by username
    # Sums of the rows (a client two collectors visited counts once per collector).
    totals: WeekCounts


class WeekRow(WeekCounts):
    """One week of one collector's year."""

    week: str  # YYYY-Www
    monday: date


class FlaggedVisit(BaseModel):
    visit_id: int
    event_id: uuid.UUID
    collector: str
    collector_id: uuid.UUID
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
    flags: list[str]


def collector_id(session: Session, username: str) -> uuid.UUID:
    """The id of the user called `username`; 422 `unknown_collector` when there is none."""
    found = visits_repo.user_id(session, username)
    if found is None:
        raise InvalidInput(
            f"{username!r} is not a user", code="unknown_collector", details={"collector": username}
        )
    return found


def _week_counts(c: visits_repo.Counts) -> dict[str, int]:
    return {
        "visits": c.visits,
        "effective_contacts": c.effective_contacts,
        "verified_visits": c.verified_visits,
        "clients_visited": c.clients_visited,
        "flagged_visits": c.flagged_visits,
    }


def weekly_visits(
    session: Session,
    week: IsoWeek,
    *,
    collector: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> WeeklyVisits:
    """Every collector's counts for `week` (active collectors with no visits get zeros), or one
    collector's (`collector`: a username). `timezone` only labels the answer: the business
    dates were fixed in the installation's timezone when the visits were received."""
    found = visits_repo.counts_by_collector(session, week.monday, week.sunday, username=collector)
    rows = [
        CollectorWeek(
            collector=r.username,
            collector_id=r.user_id,
            full_name=r.full_name,
            **_week_counts(r.counts),
        )
        for r in found
    ]
    totals = WeekCounts(
        visits=sum(r.visits for r in rows),
        effective_contacts=sum(r.effective_contacts for r in rows),
        verified_visits=sum(r.verified_visits for r in rows),
        clients_visited=sum(r.clients_visited for r in rows),
        flagged_visits=sum(r.flagged_visits for r in rows),
    )
    return WeeklyVisits(
        week=week.label,
        timezone=timezone,
        monday=week.monday,
        sunday=week.sunday,
        rows=rows,
        totals=totals,
    )


def collector_weeks(session: Session, collector_id: uuid.UUID, year: int) -> list[WeekRow]:
    """The 52 (or 53) weeks of ISO year `year` for one collector, in order, zeros included."""
    weeks = [IsoWeek(year, n) for n in range(1, weeks_in_year(year) + 1)]
    found = visits_repo.counts_by_week(session, collector_id, weeks[0].monday, weeks[-1].sunday)
    empty = visits_repo.Counts(0, 0, 0, 0, 0)
    return [
        WeekRow(week=w.label, monday=w.monday, **_week_counts(found.get(w.monday, empty)))
        for w in weeks
    ]


def flagged_visits(
    session: Session, start: date, end: date, collector_id: uuid.UUID | None = None
) -> list[FlaggedVisit]:
    """The flagged visits (shared/visits.py: far, poor accuracy, clock, outside legal hours) with
    business dates from `start` to `end` inclusive, oldest first, with the client's code and
    name and the evidence (distance, accuracy, flags)."""
    return [
        FlaggedVisit(
            visit_id=r.visit_id,
            event_id=r.event_id,
            collector=r.username,
            collector_id=r.user_id,
            client_id=r.client_id,
            client_code=r.client_code,
            client_name=r.client_name,
            business_date=r.business_date,
            device_time=r.device_time,
            received_at=r.received_at,
            outcome=r.outcome,
            lat=r.lat,
            lon=r.lon,
            accuracy_m=r.accuracy_m,
            distance_m=r.distance_m,
            verified=r.verified,
            flags=list(split_flags(r.flags)),
        )
        for r in visits_repo.flagged(session, start, end, user_id=collector_id)
    ]
