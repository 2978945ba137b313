"""KPIs of a period by collector, team and segment (domain.md, "KPIs"; the rules and read models
are in shared/kpis.py, the risk score in shared/risk.py, the queries in
server/repositories/kpis.py).

Each figure is one GROUP BY per (collector, segment); this module only adds those few rows up
into the team, collector and segment views. Promise status is the one thing derived in Python,
per promise due in the window, by shared.promises (the rule must not be written twice).

With a collector filter, a risky client's broken promises are those that collector recorded
(promises follow who recorded them): a promise taken by a former collector of the client does
not count in that view, and does in the team's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Final

from sqlalchemy.orm import Session

from server.repositories import kpis as kpis_repo
from server.repositories import legal as legal_repo
from server.repositories.kpis import GroupKey, Scope
from server.services import disputes, visit_counts
from server.services.access import Actor, require_office
from shared.calendar import business_date, day_start
from shared.errors import InvalidInput
from shared.kpis import (
    CollectorKpis,
    KpiFigures,
    KpiReport,
    KpiTally,
    RiskReasonOut,
    RiskyClient,
    SegmentKpis,
    figures,
    legal_figures,
    period_days,
)
from shared.promises import GRACE_DAYS, PaymentMade, PromiseStatus, promise_status
from shared.promises import Promise as PromiseFact
from shared.risk import BROKEN_LOOKBACK_DAYS, MEDIUM_FROM, RiskFacts, risk_score
from shared.visits import EFFECTIVE_OUTCOMES, unflagged_forms

MAX_PERIOD_DAYS: Final = 366 * 2
RISKY_LIMIT: Final = 20
NOTES: Final = (
    "Cartera (vencido al inicio, recaudo, facturas saldadas, clientes en riesgo): por el gestor "
    "asignado hoy al cliente. Visitas y promesas: por el gestor que las registró.",
    "Estado de las promesas con los pagos conocidos hasta el fin del día de gracia del último "
    "día del periodo (o hasta ahora, si es antes).",
)


# Business dates a report can be about (the date arithmetic of the rules stays in range).
FIRST_DAY: Final = date(1900, 1, 1)
LAST_DAY: Final = date(9000, 12, 31)


def check_period(start: date, end: date) -> None:
    if not (FIRST_DAY <= start <= LAST_DAY and FIRST_DAY <= end <= LAST_DAY):
        raise InvalidInput(
            f"las fechas del periodo van de {FIRST_DAY.isoformat()} a {LAST_DAY.isoformat()}",
            code="invalid_period",
        )
    if end < start:
        raise InvalidInput(
            "el periodo termina antes de empezar",
            code="invalid_period",
            details={"from": start.isoformat(), "to": end.isoformat()},
        )
    if period_days(start, end) > MAX_PERIOD_DAYS:
        raise InvalidInput(
            f"el periodo no puede pasar de {MAX_PERIOD_DAYS} días", code="invalid_period"
        )


def promises_as_of(end: date, now: datetime, tz: tzinfo) -> datetime:
    """Payments known until the grace of the period's last day has run out, or until now: a past
    period's report never changes, the current one shows what is pending."""
    return min(now, day_start(end + timedelta(days=GRACE_DAYS + 1), tz) - timedelta(microseconds=1))


def kpi_report(
    session: Session,
    actor: Actor,
    *,
    start: date,
    end: date,
    now: datetime,
    tz: tzinfo,
    timezone: str,
    collector: str | None = None,
    segment: str | None = None,
    risky_limit: int = RISKY_LIMIT,
) -> KpiReport:
    """The KPIs of `start..end` (inclusive business dates). Office only."""
    require_office(actor)
    check_period(start, end)
    if collector is not None:
        visit_counts.collector_id(session, collector)  # 422 unknown_collector, not zeros
    scope = Scope(collector=collector, segment=segment)
    tallies: dict[GroupKey, KpiTally] = defaultdict(KpiTally)

    for key, p in kpis_repo.portfolio(session, start, end, scope).items():
        t = tallies[key]
        t.overdue_at_start += p.overdue
        t.overdue_invoices += p.invoices
        t.recovered += p.recovered
        t.settled_invoices += p.settled
        t.settled_days += p.settled_days
    visits = kpis_repo.visit_counts(
        session,
        start,
        end,
        scope,
        effective_outcomes=sorted(EFFECTIVE_OUTCOMES),
        unflagged_forms=unflagged_forms(),
    )
    for key, v in visits.items():
        t = tallies[key]
        t.visits += v.visits
        t.effective_contacts += v.effective
        t.verified_visits += v.verified
        t.flagged_visits += v.flagged
    made = kpis_repo.promises_made(
        session, day_start(start, tz), day_start(end + timedelta(1), tz), scope
    )
    for key, count in made.items():
        tallies[key].promises_made += count

    as_of = promises_as_of(end, now, tz)
    risk_from = end - timedelta(days=BROKEN_LOOKBACK_DAYS)
    judged = judged_promises(session, min(start, risk_from), end, scope, as_of, tz)
    broken_by_client: dict[object, int] = defaultdict(int)
    for row, status in judged:
        if row.due_date >= start:
            tallies[(row.collector, row.segment)].count_promise(status)
        if status is PromiseStatus.BROKEN and row.due_date >= risk_from:
            broken_by_client[row.client_id] += 1

    legal = legal_repo.legal_counts(
        session, day_start(start, tz), day_start(end + timedelta(1), tz), scope
    )
    days = period_days(start, end)
    return KpiReport(
        period_from=start,
        period_to=end,
        days=days,
        weeks=(Decimal(days) / 7).quantize(Decimal("0.01")),
        timezone=timezone,
        promises_as_of=as_of,
        collector=collector,
        segment=segment,
        team=_team(tallies.values(), days),
        collectors=_by_collector(tallies, days),
        segments=_by_segment(tallies, days),
        legal=legal_figures(legal.referred, legal.closed, legal.positive),
        risky_clients=risky_clients(session, end, scope, broken_by_client, limit=risky_limit),
        notes=list(NOTES),
        disputes=disputes.kpis(
            session,
            start=day_start(start, tz),
            end=day_start(end + timedelta(1), tz),
            collector=collector,
            segment=segment,
        ),
    )


def judged_promises(
    session: Session,
    due_from: date,
    due_to: date,
    scope: Scope,
    as_of: datetime,
    tz: tzinfo,
) -> list[tuple[kpis_repo.PromiseRow, PromiseStatus]]:
    """Each promise due in `due_from..due_to` with its status at `as_of` (shared.promises)."""
    rows = kpis_repo.promises_due(session, due_from, due_to, scope)
    if not rows:
        return []
    since = min(business_date(r.made_at, tz) for r in rows)
    until = due_to + timedelta(days=GRACE_DAYS)
    paid: dict[object, list[PaymentMade]] = defaultdict(list)
    for client_id, at, amount in kpis_repo.standing_payments(
        session, due_from, due_to, since, until, scope
    ):
        paid[client_id].append(PaymentMade(paid_at=at, amount=amount))
    return [
        (
            r,
            promise_status(
                PromiseFact(made_at=r.made_at, due_date=r.due_date, amount=r.amount),
                paid[r.client_id],
                as_of,
                tz,
            ).status,
        )
        for r in rows
    ]


def _sum(tallies: Iterable[KpiTally]) -> KpiTally:
    total = KpiTally()
    for t in tallies:
        total.add(t)
    return total


def _team(tallies: Iterable[KpiTally], days: int) -> KpiFigures:
    return figures(_sum(tallies), days)


def _by_collector(tallies: dict[GroupKey, KpiTally], days: int) -> list[CollectorKpis]:
    grouped: dict[str | None, list[KpiTally]] = defaultdict(list)
    for (collector, _), t in tallies.items():
        grouped[collector].append(t)
    # Unassigned portfolio (None) last.
    order = sorted(grouped, key=lambda c: (c is None, c or ""))
    return [
        CollectorKpis(collector=c, **figures(_sum(grouped[c]), days).model_dump()) for c in order
    ]


def _by_segment(tallies: dict[GroupKey, KpiTally], days: int) -> list[SegmentKpis]:
    grouped: dict[str | None, list[KpiTally]] = defaultdict(list)
    for (_, segment), t in tallies.items():
        grouped[segment].append(t)
    order = sorted(grouped, key=lambda s: (s is None, s or ""))
    return [SegmentKpis(segment=s, **figures(_sum(grouped[s]), days).model_dump()) for s in order]


def risky_clients(
    session: Session,
    as_of: date,
    scope: Scope,
    broken_by_client: dict[object, int],
    *,
    limit: int = RISKY_LIMIT,
) -> list[RiskyClient]:
    """The clients scoring `medio` or more at the end of `as_of`, highest score first (then the
    larger overdue balance), at most `limit`."""
    found: list[RiskyClient] = []
    for c in kpis_repo.overdue_clients(
        session, as_of, scope, effective_outcomes=sorted(EFFECTIVE_OUTCOMES)
    ):
        since_contact = None if c.last_contact is None else (as_of - c.last_contact).days
        oldest = (as_of - c.oldest_due).days
        broken = broken_by_client.get(c.client_id, 0)
        score = risk_score(RiskFacts(oldest, c.overdue_balance, broken, since_contact))
        if score.score < MEDIUM_FROM:
            continue
        found.append(
            RiskyClient(
                client_id=c.client_id,
                code=c.code,
                name=c.name,
                collector=c.collector,
                segment=c.segment,
                score=score.score,
                level=score.level,
                overdue_balance=c.overdue_balance,
                oldest_days_past_due=oldest,
                broken_promises=broken,
                last_contact=c.last_contact,
                days_since_contact=since_contact,
                reasons=[
                    RiskReasonOut(code=r.code, points=r.points, text=r.text) for r in score.reasons
                ],
            )
        )
    found.sort(key=lambda r: (-r.score, -r.overdue_balance, r.code))
    return found[:limit]
