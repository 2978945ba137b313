"""The team's week for the supervisor: per collector, the weekly visit counts (visit_counts.py)
beside the money collected and the promises taken that week, and the visits of each day (the
links to each collector's day). Read-only; the page checks the role.

Money collected is read from the payment events as the phones sent them (amounts on the device's
clock in the business timezone), voided ones left out: the same figures the day page adds up.
Held payments count, since the cash was collected; where it was posted is the review queue's.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo
from decimal import Decimal

from sqlalchemy.orm import Session

from server.db.models import InboundEvent
from server.repositories import field_activity as repo
from server.services.visit_counts import CollectorWeek, weekly_visits
from shared.calendar import IsoWeek
from shared.money import ZERO, money


@dataclass
class CollectorWeekRow:
    counts: CollectorWeek
    collected: Decimal = ZERO
    payments: int = 0
    promises: int = 0
    promised: Decimal = ZERO
    per_day: dict[date, int] = field(default_factory=dict)


@dataclass
class TeamWeek:
    week: IsoWeek
    rows: list[CollectorWeekRow]

    @property
    def days(self) -> list[date]:
        return self.week.days()

    @property
    def collected(self) -> Decimal:
        return sum((r.collected for r in self.rows), ZERO)

    def total(self, name: str) -> int:
        return sum(int(getattr(r.counts, name)) for r in self.rows)

    @property
    def promises(self) -> int:
        return sum(r.promises for r in self.rows)

    @property
    def promised(self) -> Decimal:
        return sum((r.promised for r in self.rows), ZERO)


def voided_payments(rows: Sequence[InboundEvent]) -> set[str]:
    """The payment event ids the applied voids in `rows` point at."""
    return {str((r.raw.get("payload") or {}).get("payment_event_id", "")).lower() for r in rows} - {
        ""
    }


def team_week(session: Session, week: IsoWeek, tz: tzinfo, timezone: str) -> TeamWeek:
    counts = weekly_visits(session, week, timezone=timezone)
    start, end = week.bounds(tz)
    payments = repo.team_events_between(session, ["payment.collected"], start, end)
    voided = voided_payments(repo.team_voids_since(session, start))
    promises = repo.team_promises_between(session, start, end)
    per_day = repo.visits_per_day(session, week.monday, week.sunday)

    collected: dict[uuid.UUID, Decimal] = defaultdict(lambda: ZERO)
    paid: dict[uuid.UUID, int] = defaultdict(int)
    for p in payments:
        if str(p.event_id) in voided:
            continue
        collected[p.user_id] += money(str((p.raw.get("payload") or {}).get("amount", "0")))
        paid[p.user_id] += 1
    promised: dict[uuid.UUID, Decimal] = defaultdict(lambda: ZERO)
    promised_n: dict[uuid.UUID, int] = defaultdict(int)
    for pr in promises:
        promised[pr.user_id] += pr.amount
        promised_n[pr.user_id] += 1
    rows = [
        CollectorWeekRow(
            counts=c,
            collected=collected[c.collector_id],
            payments=paid[c.collector_id],
            promises=promised_n[c.collector_id],
            promised=promised[c.collector_id],
            per_day={d: per_day.get((c.collector_id, d), 0) for d in week.days()},
        )
        for c in counts.rows
    ]
    return TeamWeek(week, rows)
