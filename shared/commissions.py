"""Commissions (domain.md, "Commissions"): a percentage of each payment by the aging bucket of the
invoice it was applied to on the business day of the payment, plus a weekly bonus on effective
contacts; a reversal takes its commission back in the period of the reversal.

Rules are data: `shared/rules/commissions.toml` (or a file the installation passes), loaded into
frozen models that carry their `version`. Rounding: each line (one amount applied to one invoice)
is rounded to the cent, half up (away from zero), before lines are added, so a statement lists
pesos that add up exactly. A part of a payment applied to no invoice (the client's credit) earns
nothing until it is applied. Pure functions; reading the rules file is the only I/O.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args

from shared.aging import bucket_for, bucket_names, days_past_due, validate_edges
from shared.errors import InvalidInput
from shared.money import CENT, ZERO, money

DEFAULT_FILE: Final = "commissions.toml"
CashCountsWhen = Literal["collected", "confirmed"]
CASH_COUNTS_WHEN: Final[tuple[CashCountsWhen, ...]] = get_args(CashCountsWhen)
_HUNDRED: Final = Decimal(100)


@dataclass(frozen=True)
class CommissionRules:
    version: str
    currency: str
    edges: tuple[int, ...]
    rates: tuple[tuple[str, Decimal], ...]  # (bucket, percent) in bucket order
    bonus_target: int  # effective contacts in a week
    bonus_amount: Decimal
    # When a cash payment earns: "collected" (its business day, like every method) or
    # "confirmed" (the business day a supervisor confirmed the handover that covers it).
    cash_counts_when: CashCountsWhen = "collected"

    def rate(self, bucket: str) -> Decimal:
        """The percent paid on an amount applied to an invoice in `bucket`."""
        for name, percent in self.rates:
            if name == bucket:
                return percent
        raise ValueError(f"no commission rate for bucket {bucket!r} in rules {self.version}")

    def bucket(self, due_date: date, paid_on: date) -> str:
        return bucket_for(days_past_due(due_date, paid_on), self.edges)


@dataclass(frozen=True)
class CommissionLine:
    """One amount applied to one invoice (or to credit: `invoice` None, `bucket` None), with its
    commission. A reversal line has the negated amount and commission of the line it undoes."""

    payment_id: str
    invoice: str | None
    amount: Decimal
    bucket: str | None
    percent: Decimal
    commission: Decimal
    reversal: bool = False


@dataclass(frozen=True)
class WeekCommission:
    version: str
    lines: tuple[CommissionLine, ...]
    effective_contacts: int
    bonus_target: int
    bonus_amount: Decimal  # what reaching the target pays
    bonus: Decimal  # what this week earned: bonus_amount or zero
    lines_total: Decimal
    total: Decimal


@dataclass(frozen=True)
class Applied:
    """Part of a payment applied to an invoice due on `due_date` (None: the client's credit)."""

    invoice: str | None
    amount: Decimal
    due_date: date | None


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f"{where}: write {value!r} as a string, floats are not exact")
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{where}: not a number: {value!r}") from exc
    if not result.is_finite() or result < 0:
        raise ValueError(f"{where}: must be a non-negative number: {value!r}")
    return result


def parse_rules(data: Mapping[str, Any], source: str = "<rules>") -> CommissionRules:
    """Build rules from a parsed TOML document (the format of shared/rules/commissions.toml)."""
    try:
        version = str(data["version"]).strip()
        if not version:
            raise ValueError(f"{source}: empty version")
        edges = validate_edges(data["aging"]["edges"])
        rates_table = data["rates"]
        names = bucket_names(edges)
        missing = [n for n in names if n not in rates_table]
        extra = sorted(set(rates_table) - set(names))
        if missing or extra:
            raise ValueError(
                f"{source}: rates must name buckets {names}; missing {missing}, extra {extra}"
            )
        rates = tuple((n, _decimal(rates_table[n], f"{source} [rates] {n}")) for n in names)
        if any(percent > _HUNDRED for _, percent in rates):
            raise ValueError(f"{source}: a rate is a percent, at most 100")
        bonus = data.get("bonus", {})
        target = int(bonus.get("effective_contacts", 0))
        if target < 0:
            raise ValueError(f"{source}: [bonus] effective_contacts must be >= 0")
        amount = _decimal(bonus.get("amount", "0"), f"{source} [bonus] amount")
        cash_when = data.get("cash_counts_when", "collected")
        if cash_when not in CASH_COUNTS_WHEN:
            raise ValueError(f"{source}: cash_counts_when must be one of {CASH_COUNTS_WHEN}")
        return CommissionRules(
            version=version,
            currency=str(data.get("currency", "COP")),
            edges=edges,
            rates=rates,
            bonus_target=target,
            bonus_amount=money(amount),
            cash_counts_when=cast(CashCountsWhen, cash_when),
        )
    except (KeyError, TypeError, AttributeError, InvalidInput) as exc:
        raise ValueError(f"{source}: malformed commission rules ({exc!r})") from exc


def load_rules(path: Path | str | None = None) -> CommissionRules:
    """The rules in `path`, or the packaged default (shared/rules/commissions.toml)."""
    if path is None:
        return _default_rules()
    source = Path(path)
    return parse_rules(tomllib.loads(source.read_text(encoding="utf-8")), str(source))


@lru_cache(maxsize=1)
def _default_rules() -> CommissionRules:
    resource = files("shared").joinpath("rules").joinpath(DEFAULT_FILE)
    return parse_rules(tomllib.loads(resource.read_text(encoding="utf-8")), DEFAULT_FILE)


def line_commission(rules: CommissionRules, amount: Decimal, bucket: str | None) -> Decimal:
    """Commission of one applied amount, to the cent, half up; credit (bucket None) earns 0."""
    if bucket is None:
        return ZERO
    raw = money(amount) * rules.rate(bucket) / _HUNDRED
    result = raw.quantize(CENT, rounding=ROUND_HALF_UP)
    return ZERO if result == ZERO else result


def payment_lines(
    rules: CommissionRules, payment_id: str, paid_on: date, applied: Iterable[Applied]
) -> list[CommissionLine]:
    """The lines of one payment made on business day `paid_on`, one per applied amount."""
    lines = []
    for part in applied:
        amount = money(part.amount)
        if amount <= ZERO:
            raise ValueError("a payment applies positive amounts")
        bucket = None if part.due_date is None else rules.bucket(part.due_date, paid_on)
        lines.append(
            CommissionLine(
                payment_id=payment_id,
                invoice=part.invoice,
                amount=amount,
                bucket=bucket,
                percent=ZERO if bucket is None else rules.rate(bucket),
                commission=line_commission(rules, amount, bucket),
            )
        )
    return lines


def reversal_lines(lines: Sequence[CommissionLine]) -> list[CommissionLine]:
    """The lines that take a reversed payment's commission back, to be counted in the period of
    the reversal (not rewritten into the payment's period): each the exact negation of its line."""
    return [
        CommissionLine(
            payment_id=line.payment_id,
            invoice=line.invoice,
            amount=-line.amount,
            bucket=line.bucket,
            percent=line.percent,
            commission=-line.commission,
            reversal=True,
        )
        for line in lines
        if not line.reversal
    ]


def weekly_bonus(rules: CommissionRules, effective_contacts: int) -> Decimal:
    """The bonus once the week's effective contacts reach the target (a target of 0: no bonus)."""
    if rules.bonus_target > 0 and effective_contacts >= rules.bonus_target:
        return rules.bonus_amount
    return ZERO


def week_commission(
    rules: CommissionRules, lines: Iterable[CommissionLine], effective_contacts: int
) -> WeekCommission:
    """A week's commission: its lines (payments and reversals of the week) kept for the
    statement, their sum, and the bonus."""
    kept = tuple(lines)
    lines_total = sum((line.commission for line in kept), ZERO)
    bonus = weekly_bonus(rules, effective_contacts)
    return WeekCommission(
        version=rules.version,
        lines=kept,
        effective_contacts=effective_contacts,
        bonus_target=rules.bonus_target,
        bonus_amount=rules.bonus_amount,
        bonus=bonus,
        lines_total=money(lines_total),
        total=money(lines_total + bonus),
    )
