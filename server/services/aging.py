"""Aging report (edad de cartera) at a date, rebuilt from the ledger like the statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, timedelta, tzinfo
from typing import cast

from sqlalchemy.orm import Session

from server.repositories import clients as clients_repo
from server.repositories import disputes as disputes_repo
from server.services.access import Actor, require_office
from shared.aging import DEFAULT_EDGES
from shared.calendar import day_start
from shared.clients import AgingItem, AgingReport, Segment, aging_report
from shared.money import ZERO


def portfolio_aging(
    session: Session,
    actor: Actor,
    *,
    as_of: date,
    edges: Sequence[int] = DEFAULT_EDGES,
    collector: str | None = None,
    segment: str | None = None,
    tz: tzinfo = UTC,
) -> AgingReport:
    """Open balances per bucket on `as_of`, overall, per collector (the current assignment) and
    per segment, with unapplied credit apart, and the disputes open at the end of that day (in
    `tz`) on the invoices of each bucket apart ("en glosa": still owed, not collectable until
    decided; a dispute on an unknown invoice waits in review and is not aged). Office only."""
    require_office(actor)
    rows = clients_repo.balances_as_of(session, as_of, collector=collector, segment=segment)
    items = [
        AgingItem(
            collector=r.collector,
            segment=cast(Segment, r.segment),  # the schema's CHECK constraint holds it to these
            due_date=r.due_date,
            balance=r.balance,
        )
        for r in rows
    ]
    day_end = day_start(as_of + timedelta(days=1), tz)
    for who, seg, due, amount in disputes_repo.open_on_invoices_at(
        session, day_end, collector=collector, segment=segment
    ):
        items.append(AgingItem(who, cast(Segment, seg), due, ZERO, disputed=amount))
    return aging_report(items, as_of=as_of, edges=edges)
