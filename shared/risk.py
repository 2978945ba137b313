"""Risky clients: a score from aging, broken promises and time since the last effective contact,
with the reasons behind it (domain.md, "KPIs": risky clients, "with the reasons shown").

Rules of this file (a pure function of the facts of one client at a date):
- only a client with an overdue balance is scored; a client with nothing overdue is not at risk
  whatever else is true (score 0, no reasons);
- the score is the sum of three parts, 0..100, each part a reason when it adds points:
  - aging (up to 40), by the days past due of the client's oldest overdue invoice:
    1-30 → 10, 31-60 → 20, 61-90 → 25, 91-180 → 30, 181-360 → 35, over 360 → 40;
  - broken promises (up to 30): 15 for each promise broken within `BROKEN_LOOKBACK_DAYS` before
    the date (a partial promise is not broken: some money came);
  - no effective contact (up to 30): never contacted → 30, last effective contact 60 days ago or
    more → 30, 30 or more → 20, 15 or more → 10;
- level: `alto` from 60, `medio` from 35, otherwise `bajo`.
The thresholds are module constants so a change is one reviewed diff, and every reason carries
its points so a supervisor can see why a client ranks where it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from shared.money import ZERO

RiskLevel = Literal["alto", "medio", "bajo"]
ReasonCode = Literal["aging", "broken_promises", "no_contact"]

# (lowest days past due, points), highest first.
AGING_POINTS: Final[tuple[tuple[int, int], ...]] = (
    (361, 40),
    (181, 35),
    (91, 30),
    (61, 25),
    (31, 20),
    (1, 10),
)
BROKEN_PROMISE_POINTS: Final = 15
BROKEN_PROMISES_MAX_POINTS: Final = 30
BROKEN_LOOKBACK_DAYS: Final = 90
NEVER_CONTACTED_POINTS: Final = 30
# (days since the last effective contact, points), highest first.
NO_CONTACT_POINTS: Final[tuple[tuple[int, int], ...]] = ((60, 30), (30, 20), (15, 10))
HIGH_FROM: Final = 60
MEDIUM_FROM: Final = 35


@dataclass(frozen=True)
class RiskFacts:
    oldest_days_past_due: int  # of the oldest invoice with an overdue balance; 0 when none
    overdue_balance: Decimal
    broken_promises: int  # broken within BROKEN_LOOKBACK_DAYS
    days_since_contact: int | None  # since the last effective contact; None: never


@dataclass(frozen=True)
class RiskReason:
    code: ReasonCode
    points: int
    text: str  # Spanish, as the supervisor reads it


@dataclass(frozen=True)
class RiskScore:
    score: int
    level: RiskLevel
    reasons: tuple[RiskReason, ...]  # the largest part first


def _aging(days: int) -> RiskReason | None:
    for lowest, points in AGING_POINTS:
        if days >= lowest:
            return RiskReason("aging", points, f"Factura más antigua con {days} días de mora")
    return None


def _broken(count: int) -> RiskReason | None:
    if count <= 0:
        return None
    points = min(BROKEN_PROMISES_MAX_POINTS, BROKEN_PROMISE_POINTS * count)
    noun = "promesa incumplida" if count == 1 else "promesas incumplidas"
    return RiskReason(
        "broken_promises", points, f"{count} {noun} en los últimos {BROKEN_LOOKBACK_DAYS} días"
    )


def _no_contact(days: int | None) -> RiskReason | None:
    if days is None:
        return RiskReason("no_contact", NEVER_CONTACTED_POINTS, "Sin contacto efectivo registrado")
    for at_least, points in NO_CONTACT_POINTS:
        if days >= at_least:
            return RiskReason("no_contact", points, f"Sin contacto efectivo hace {days} días")
    return None


def level_of(score: int) -> RiskLevel:
    if score >= HIGH_FROM:
        return "alto"
    if score >= MEDIUM_FROM:
        return "medio"
    return "bajo"


def risk_score(facts: RiskFacts) -> RiskScore:
    """The score of one client (see the module rules)."""
    if facts.overdue_balance <= ZERO or facts.oldest_days_past_due <= 0:
        return RiskScore(0, "bajo", ())
    parts = [
        r
        for r in (
            _aging(facts.oldest_days_past_due),
            _broken(facts.broken_promises),
            _no_contact(facts.days_since_contact),
        )
        if r is not None
    ]
    # Stable sort: equal parts keep the order aging, promises, contact.
    reasons = tuple(sorted(parts, key=lambda r: -r.points))
    score = sum(r.points for r in reasons)
    return RiskScore(score, level_of(score), reasons)
