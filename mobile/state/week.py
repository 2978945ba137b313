"""Mi semana: the collector's own week from what this phone recorded (domain.md, "Weekly visit
counts"): visits, effective contacts, distinct clients, money collected net of voids. The
server's figures are the official ones; these are what the collector can see offline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from mobile.services.portfolio import LocalEvent
from mobile.state.clients import EFFECTIVE_OUTCOMES
from shared.calendar import IsoWeek, week_of
from shared.money import ZERO, money


@dataclass(frozen=True)
class WeekSummary:
    week: IsoWeek
    visits: int
    effective_contacts: int
    clients_visited: int
    payments: int
    collected: Decimal
    promises: int


def week_summary(
    events: Iterable[LocalEvent], *, now: datetime, tz: tzinfo | str | None = None
) -> WeekSummary:
    week = week_of(now, tz)
    listed = list(events)
    voided = {e.ref_event_id for e in listed if e.type == "payment.voided"}
    mine = [e for e in listed if week_of(e.device_time, tz) == week]
    visits = [e for e in mine if e.type == "visit.recorded"]
    payments = [e for e in mine if e.type == "payment.collected" and e.event_id not in voided]
    return WeekSummary(
        week=week,
        visits=len(visits),
        effective_contacts=sum(1 for e in visits if e.payload["outcome"] in EFFECTIVE_OUTCOMES),
        clients_visited=len({e.client_id for e in visits}),
        payments=len(payments),
        collected=sum((money(str(e.payload["amount"])) for e in payments), ZERO),
        promises=sum(1 for e in mine if e.type == "promise.made"),
    )
