"""The weekly management report (informe semanal de gestión) of an ISO week: per collector the
week's visit counts (server/services/visit_counts.py), field collections and promises, the team's
KPIs of the week (server/services/kpis.py), the flagged visits and the top risky clients.
Exports (XLSX, PDF) are in server/services/kpi_exports.py."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Final

from pydantic import BaseModel
from sqlalchemy.orm import Session

from server.repositories import kpis as kpis_repo
from server.services import kpis, visit_counts
from server.services.access import Actor, require_office
from server.services.visit_counts import FlaggedVisit
from shared.calendar import IsoWeek
from shared.clients import MoneyStr
from shared.kpis import KpiFigures, LegalKpis, RiskyClient, pct
from shared.money import ZERO

TOP_RISKY: Final = 10
# The report lists the first flagged visits of the week; every one is counted in its
# collector's line, and GET /v1/reports/flagged-visits lists them all.
FLAGGED_LISTED: Final = 200


class CollectorWeekLine(BaseModel):
    collector: str
    full_name: str = ""
    visits: int = 0
    effective_contacts: int = 0
    verified_visits: int = 0
    clients_visited: int = 0
    flagged_visits: int = 0
    payments: int = 0
    collected: MoneyStr = ZERO
    voided: MoneyStr = ZERO
    net_collected: MoneyStr = ZERO
    promises_made: int = 0
    promises_due: int = 0
    promises_kept: int = 0
    promises_partial: int = 0
    promises_broken: int = 0
    promises_pending: int = 0
    kept_rate_pct: Decimal | None = None
    recovery_pct: Decimal | None = None  # of the portfolio assigned to the collector


class WeeklyManagementReport(BaseModel):
    week: str
    monday: date
    sunday: date
    timezone: str
    generated_at: datetime
    collectors: list[CollectorWeekLine]  # by username
    totals: CollectorWeekLine  # collector "Total"; clients_visited distinct over the team
    kpis: KpiFigures  # the team's KPIs of the week
    flagged_visits: list[FlaggedVisit]  # the first FLAGGED_LISTED of the week, oldest first
    flagged_visits_total: int
    risky_clients: list[RiskyClient]
    legal: LegalKpis
    notes: list[str]


def weekly_management_report(
    session: Session, actor: Actor, *, week: IsoWeek, now: datetime, tz: tzinfo, timezone: str
) -> WeeklyManagementReport:
    require_office(actor)
    kpi = kpis.kpi_report(
        session,
        actor,
        start=week.monday,
        end=week.sunday,
        now=now,
        tz=tz,
        timezone=timezone,
        risky_limit=TOP_RISKY,
    )
    counts = visit_counts.weekly_visits(session, week, timezone=timezone)
    money = kpis_repo.collections_by_collector(session, week.monday, week.sunday)
    lines: dict[str, CollectorWeekLine] = {
        r.collector: CollectorWeekLine(
            collector=r.collector,
            full_name=r.full_name,
            visits=r.visits,
            effective_contacts=r.effective_contacts,
            verified_visits=r.verified_visits,
            clients_visited=r.clients_visited,
            flagged_visits=r.flagged_visits,
        )
        for r in counts.rows
    }
    for username, c in money.items():
        line = lines.setdefault(username, CollectorWeekLine(collector=username))
        line.payments = c.payments
        line.collected = c.collected
        line.voided = c.voided
        line.net_collected = c.collected - c.voided
    for row in kpi.collectors:
        if row.collector is None:
            continue  # unassigned portfolio: in the team's KPIs, not a collector's line
        line = lines.setdefault(row.collector, CollectorWeekLine(collector=row.collector))
        line.promises_made = row.promises_made
        line.promises_due = row.promises_due
        line.promises_kept = row.promises_kept
        line.promises_partial = row.promises_partial
        line.promises_broken = row.promises_broken
        line.promises_pending = row.promises_pending
        line.kept_rate_pct = row.kept_rate_pct
        line.recovery_pct = row.recovery_pct
    ordered = [lines[k] for k in sorted(lines)]
    flagged = visit_counts.flagged_visits(session, week.monday, week.sunday)
    return WeeklyManagementReport(
        week=week.label,
        monday=week.monday,
        sunday=week.sunday,
        timezone=timezone,
        generated_at=now,
        collectors=ordered,
        totals=_totals(ordered, counts.totals.clients_visited, kpi.team),
        kpis=kpi.team,
        flagged_visits=flagged[:FLAGGED_LISTED],
        flagged_visits_total=len(flagged),
        risky_clients=kpi.risky_clients,
        legal=kpi.legal,
        notes=[
            *kpi.notes,
            "Recaudo: pagos tomados en campo con fecha efectiva en la semana; las anulaciones "
            "se restan en la semana en que se hicieron.",
        ],
    )


def _totals(
    lines: list[CollectorWeekLine], clients_visited: int, team: KpiFigures
) -> CollectorWeekLine:
    def total(name: str) -> int:
        return sum(int(getattr(line, name)) for line in lines)

    collected = sum((line.collected for line in lines), ZERO)
    voided = sum((line.voided for line in lines), ZERO)
    kept, partial, broken = (
        total("promises_kept"),
        total("promises_partial"),
        total("promises_broken"),
    )
    return CollectorWeekLine(
        collector="Total",
        visits=total("visits"),
        effective_contacts=total("effective_contacts"),
        verified_visits=total("verified_visits"),
        clients_visited=clients_visited,
        flagged_visits=total("flagged_visits"),
        payments=total("payments"),
        collected=collected,
        voided=voided,
        net_collected=collected - voided,
        promises_made=total("promises_made"),
        promises_due=total("promises_due"),
        promises_kept=kept,
        promises_partial=partial,
        promises_broken=broken,
        promises_pending=total("promises_pending"),
        kept_rate_pct=pct(kept, kept + partial + broken),
        recovery_pct=team.recovery_pct,
    )
