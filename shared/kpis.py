"""Collection KPIs of a period (domain.md, "KPIs"): the additive counts behind them, the ratios
computed from those counts, and the read models the server answers with.

Rules of this file (no I/O, no clock):
- a period is `from`..`to`, both inclusive business dates; its weeks are its days / 7, so a
  "per week" figure of an ISO week is the week's own count;
- every KPI is computed from a `KpiTally` of additive counts, so the team's figures are the sum of
  the collectors' tallies, never an average of their ratios;
- ratios are percent figures with two decimals (`37.50` means 37.5 %), rounded half up, and
  `None` (JSON null) when the denominator is zero: "no overdue portfolio" is not "0 % recovered";
- recovery % = payments (net of their reversals) effective in the period and applied to invoices
  that were overdue at its start ÷ those invoices' balance at its start (end of the day before
  `from`, rebuilt from the ledger);
- average recovery time = mean over the invoices settled by a payment in the period of the days
  from the due date to that payment (0 for one paid on or before its due date), one decimal;
- kept rate = kept ÷ (kept + partial + broken): promises still pending are not judged yet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from pydantic import ConfigDict, Field

from shared.clients import MoneyStr, ReadModel
from shared.money import ZERO
from shared.promises import PromiseStatus
from shared.risk import ReasonCode, RiskLevel

PCT_PLACES: Final = Decimal("0.01")
RATE_PLACES: Final = Decimal("0.01")
DAYS_PLACES: Final = Decimal("0.1")
LEGAL_NOTE: Final = "Sin casos remitidos ni cerrados en cobro jurídico en el periodo."


def pct(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """`part` as a percent of `whole`, two decimals; None when `whole` is zero."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(PCT_PLACES, rounding=ROUND_HALF_UP)


def period_days(start: date, end: date) -> int:
    return (end - start).days + 1


def per_week(count: int, days: int) -> Decimal:
    """A count over `days` as a weekly rate, two decimals."""
    return (Decimal(count) * 7 / Decimal(days)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class KpiTally:
    """Additive counts of one group (a collector and segment, a collector, the team...)."""

    overdue_at_start: Decimal = ZERO
    overdue_invoices: int = 0
    recovered: Decimal = ZERO
    settled_invoices: int = 0
    settled_days: int = 0  # sum over the settled invoices of their days to recovery
    visits: int = 0
    effective_contacts: int = 0
    verified_visits: int = 0
    flagged_visits: int = 0
    promises_made: int = 0
    promises_kept: int = 0
    promises_partial: int = 0
    promises_broken: int = 0
    promises_pending: int = 0

    def add(self, other: KpiTally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def count_promise(self, status: PromiseStatus) -> None:
        name = f"promises_{status.value}"
        setattr(self, name, getattr(self, name) + 1)

    @property
    def promises_due(self) -> int:
        return (
            self.promises_kept
            + self.promises_partial
            + self.promises_broken
            + self.promises_pending
        )


class KpiFigures(ReadModel):
    overdue_at_start: MoneyStr = Field(description="balance overdue at the start of the period")
    overdue_invoices_at_start: int
    recovered: MoneyStr = Field(description="payments in the period on those invoices")
    recovery_pct: Decimal | None = Field(description="recovered ÷ overdue at start, percent")
    invoices_settled: int = Field(description="invoices settled by a payment in the period")
    avg_recovery_days: Decimal | None = Field(description="mean days from due date to settling")
    visits: int
    effective_contacts: int
    verified_visits: int
    flagged_visits: int
    visits_per_week: Decimal
    effective_contacts_per_week: Decimal
    verified_share_pct: Decimal | None
    promises_made: int = Field(description="promises made in the period")
    promises_due: int = Field(description="promises due in the period")
    promises_kept: int
    promises_partial: int
    promises_broken: int
    promises_pending: int
    kept_rate_pct: Decimal | None = Field(description="kept ÷ (kept + partial + broken), percent")


def figures(tally: KpiTally, days: int) -> KpiFigures:
    judged = tally.promises_kept + tally.promises_partial + tally.promises_broken
    avg_days = (
        None
        if tally.settled_invoices == 0
        else (Decimal(tally.settled_days) / tally.settled_invoices).quantize(
            DAYS_PLACES, rounding=ROUND_HALF_UP
        )
    )
    return KpiFigures(
        overdue_at_start=tally.overdue_at_start,
        overdue_invoices_at_start=tally.overdue_invoices,
        recovered=tally.recovered,
        recovery_pct=pct(tally.recovered, tally.overdue_at_start),
        invoices_settled=tally.settled_invoices,
        avg_recovery_days=avg_days,
        visits=tally.visits,
        effective_contacts=tally.effective_contacts,
        verified_visits=tally.verified_visits,
        flagged_visits=tally.flagged_visits,
        visits_per_week=per_week(tally.visits, days),
        effective_contacts_per_week=per_week(tally.effective_contacts, days),
        verified_share_pct=pct(tally.verified_visits, tally.visits),
        promises_made=tally.promises_made,
        promises_due=tally.promises_due,
        promises_kept=tally.promises_kept,
        promises_partial=tally.promises_partial,
        promises_broken=tally.promises_broken,
        promises_pending=tally.promises_pending,
        kept_rate_pct=pct(tally.promises_kept, judged),
    )


class CollectorKpis(KpiFigures):
    collector: str | None = Field(description="username; null: clients with no collector")


class SegmentKpis(KpiFigures):
    segment: str | None = Field(description="null: visits to clients the server does not know")


class LegalKpis(ReadModel):
    """Cobro jurídico in the period: cases referred, cases closed, and of those the positive ones
    (recovered or agreement); % positive = positive ÷ closed."""

    referred: int = Field(default=0, description="cases sent to legal in the period")
    closed: int = Field(default=0, description="cases closed in the period")
    resolved_positive: int = Field(default=0, description="closed: recovered or agreement")
    positive_resolution_pct: Decimal | None = Field(
        default=None, description="positive ÷ closed, percent; null when none closed"
    )
    note: str = LEGAL_NOTE


def legal_figures(referred: int, closed: int, positive: int) -> LegalKpis:
    """The legal KPI from its counts, with a sentence the exports print."""
    share = pct(positive, closed)
    if referred == 0 and closed == 0:
        return LegalKpis()
    note = (
        f"{referred} caso(s) remitido(s) a cobro jurídico en el periodo; {closed} cerrado(s), "
        f"{positive} con resultado positivo (recuperado o acuerdo)"
        + ("." if share is None else f": {str(share).replace('.', ',')} %.")
    )
    return LegalKpis(
        referred=referred,
        closed=closed,
        resolved_positive=positive,
        positive_resolution_pct=share,
        note=note,
    )


class DisputeKpis(ReadModel):
    """Disputes (glosas y devoluciones) of the clients in the report's scope: what is in dispute
    at the end of the period (not collectable until decided), and what was opened and decided in
    it. Amounts are what was claimed; `accepted_value` is what the credit notes took off."""

    open_at_end: int = 0
    disputed_value: MoneyStr = Field(default=ZERO, description="open disputes' amount at the end")
    opened: int = 0
    opened_value: MoneyStr = ZERO
    accepted: int = 0
    accepted_value: MoneyStr = ZERO
    rejected: int = 0


class RiskReasonOut(ReadModel):
    code: ReasonCode
    points: int
    text: str


class RiskyClient(ReadModel):
    client_id: uuid.UUID
    code: str
    name: str
    collector: str | None
    segment: str
    score: int
    level: RiskLevel
    overdue_balance: MoneyStr
    oldest_days_past_due: int
    broken_promises: int
    last_contact: date | None
    days_since_contact: int | None
    reasons: list[RiskReasonOut]


class KpiReport(ReadModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)

    period_from: date = Field(alias="from")
    period_to: date = Field(alias="to")
    days: int
    weeks: Decimal
    timezone: str
    promises_as_of: datetime = Field(description="payments known up to here judge the promises")
    collector: str | None = Field(description="the collector filter, if any")
    segment: str | None = Field(description="the segment filter, if any")
    team: KpiFigures = Field(description="everything in the report's scope together")
    collectors: list[CollectorKpis]
    segments: list[SegmentKpis]
    legal: LegalKpis
    risky_clients: list[RiskyClient]
    notes: list[str]
    disputes: DisputeKpis = Field(default_factory=DisputeKpis)
