"""Commission statements per collector and period (domain.md, "Commissions"), for payroll.

`statements(session, start, end)` reads the period's applied amounts with one query
(repositories/commissions.py) and the effective contacts with one GROUP BY, and applies the pure
rules of shared/commissions.py in Python. What counts, decided here:

- **Payments.** Every payment a collector's own device recorded (`created_by` of the synced
  entry) with its business day in the period, one line per amount applied: the invoice's aging
  bucket on the payment's business day picks the percent (the rules' own bucket edges). The part
  of a payment left as the client's credit is listed and earns nothing (shared/commissions.py);
  the ledger has no later "credit applied" movement today, so it never earns.
- **Reversals** (a void from the phone, or the office reversing a payment) count in the period of
  the reversal's own business day: the negated lines of the payment, at the payment's bucket
  and percent, charged to the collector who collected it (whoever reversed it). A payment and
  its reversal in the same period show both lines and net zero.
- **Held payments.** A payment the push held because the client was closed or reassigned was
  still posted to that client's ledger: the collector did collect it, so it counts, in its
  period, and its lines carry `held` (the review reason) for payroll to see. If the office
  decides it was wrong, the way back is a reversal, which takes the commission back as above.
  Money the push parked in suspense (unknown client, implausible amount) is no ledger payment
  and counts for nobody until the office posts it to a client; it then counts for the collector
  whose device sent it, on the day it was posted.
- **Cash, when the rules say `cash_counts_when = "confirmed"`** (shared/rules/commissions.toml):
  a cash payment's lines count on the business day its handover was confirmed (the bucket and
  percent still taken on the payment's day), not before; never-confirmed cash counts nothing,
  and its reversal takes nothing back. A confirmed one's reversal counts in its own period as
  above. Other methods are unaffected. With the default (`collected`) cash is like any payment.
- **Weekly bonus.** The weeks of a period are the ISO weeks whose Sunday falls in it, so
  consecutive periods (months) share no week and every week is paid once; a week's effective
  contacts are counted over its whole Monday-Sunday (visits' business days). The bonus is paid
  when they reach the rules' target (>=).

Statements list every active collector (zeros included) and anyone else with lines, by username.
Rules come from `Settings.commission_rules_path` (`load_commission_rules`); each statement
records the rules' version.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import Final, Literal

from sqlalchemy.orm import Session

from server.repositories import cash as cash_repo
from server.repositories import commissions as commissions_repo
from server.repositories import users as users_repo
from server.repositories.commissions import AppliedRow
from shared.calendar import (
    DEFAULT_TIMEZONE,
    IsoWeek,
    business_date,
    business_tz,
    day_bounds,
)
from shared.commissions import CommissionRules, line_commission, load_rules, weekly_bonus
from shared.errors import InvalidInput, NotFound
from shared.money import ZERO, money

MAX_PERIOD_DAYS: Final = 366
_RECEIPT_PREFIX: Final = "Recibo "


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a setattr call per field
class StatementLine:
    """One amount applied to one invoice (or credit) by a counted payment, or its reversal."""

    kind: Literal["payment", "reversal"]
    day: date  # the business day it counts on: the payment's, or the reversal's
    paid_on: date  # the payment's business day (the bucket is taken on it)
    payment_id: uuid.UUID  # the payment's ledger entry
    reversal_id: uuid.UUID | None  # the reversal's ledger entry (reversal lines)
    receipt: str  # "K7Q-000412"
    client_code: str
    client_name: str
    invoice: str | None  # None: the client's credit (earns nothing)
    due_date: date | None
    bucket: str | None
    percent: Decimal
    amount: Decimal  # applied; negative on a reversal line
    commission: Decimal  # negative on a reversal line
    held: str | None = None  # the push held the payment: client_closed / client_reassigned / ...


@dataclass(frozen=True, slots=True)
class WeekBonus:
    week: str  # YYYY-Www
    monday: date
    sunday: date
    effective_contacts: int
    target: int
    bonus: Decimal


@dataclass(frozen=True, slots=True)
class Statement:
    collector: str  # username
    collector_id: uuid.UUID
    full_name: str
    start: date
    end: date
    rule_version: str
    payments: int  # payments counted in the period
    collected: Decimal  # their whole amounts (credit parts included)
    reversals: int  # reversals counted in the period
    reversed: Decimal  # the amounts they undid (positive)
    commission: Decimal  # sum of the lines' commissions (reversal lines are negative)
    bonus: Decimal  # sum of the weekly bonuses
    total: Decimal  # commission + bonus
    lines: list[StatementLine] = field(default_factory=list)
    weeks: list[WeekBonus] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Totals:
    collected: Decimal
    reversed: Decimal
    commission: Decimal
    bonus: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class CommissionReport:
    """`GET /v1/reports/commissions`: the period, the rules, every statement and their sums."""

    start: date
    end: date
    rule_version: str
    currency: str
    bonus_target: int  # effective contacts a week needs for the bonus
    bonus_amount: Decimal
    weeks: list[str]  # the ISO weeks of the period (those whose Sunday is in it)
    collectors: list[Statement]
    totals: Totals


def load_commission_rules(path: Path | None) -> CommissionRules:
    """The rules of the installation (`Settings.commission_rules_path`; None: the shipped file),
    read on every call so an edited file applies at once."""
    return load_rules(path)


def period_weeks(start: date, end: date) -> list[IsoWeek]:
    """The ISO weeks whose Sunday falls in [start, end], in order."""
    first_sunday = start.toordinal() + 6 - start.weekday()  # ordinals: no overflow at date.max
    return [
        IsoWeek.of(date.fromordinal(day)) for day in range(first_sunday, end.toordinal() + 1, 7)
    ]


def check_period(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput("the period ends before it starts", code="invalid_period")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidInput(
            f"a statement covers at most {MAX_PERIOD_DAYS} days", code="invalid_period"
        )


def statements(
    session: Session,
    start: date,
    end: date,
    *,
    collector_id: uuid.UUID | None = None,
    rules: CommissionRules | None = None,
    tz: str = DEFAULT_TIMEZONE,
) -> list[Statement]:
    """The statement of every collector (or of `collector_id`) for business days `start` to
    `end` inclusive (`tz`: the zone of the business days a handover confirmation falls on).
    Does not check roles: the callers do."""
    check_period(start, end)
    rules = rules or load_rules()
    if rules.cash_counts_when == "confirmed":
        rows = _cash_when_confirmed(session, start, end, collector_id, business_tz(tz))
    else:
        rows = commissions_repo.applied_in_period(session, start, end, collector_id)
    weeks = period_weeks(start, end)
    contacts: dict[tuple[uuid.UUID, date], int] = {}
    if weeks:
        contacts = commissions_repo.effective_contacts_by_day(
            session, weeks[0].monday, weeks[-1].sunday, collector_id
        )

    lines_by_collector = _lines(rules, rows)
    wanted = set(lines_by_collector) | {user_id for user_id, _ in contacts}
    result = []
    for who in commissions_repo.collectors(session, wanted, only=collector_id):
        lines = lines_by_collector.get(who.id, [])
        week_rows = [_week(rules, week, who.id, contacts) for week in weeks]
        result.append(_statement(rules, who, start, end, lines, week_rows))
    return result


def report(
    session: Session,
    start: date,
    end: date,
    *,
    rules: CommissionRules,
    collector: str | None = None,
    tz: str = DEFAULT_TIMEZONE,
) -> CommissionReport:
    """The statements of the period with their sums; `collector` (a username) narrows it to
    one collector (404 `collector_not_found` when no such user)."""
    collector_id = None
    if collector is not None:
        user = users_repo.get_user_by_username(session, collector)
        if user is None:
            raise NotFound(f"no collector {collector!r}", code="collector_not_found")
        collector_id = user.id
    found = statements(session, start, end, collector_id=collector_id, rules=rules, tz=tz)
    return CommissionReport(
        start=start,
        end=end,
        rule_version=rules.version,
        currency=rules.currency,
        bonus_target=rules.bonus_target,
        bonus_amount=rules.bonus_amount,
        weeks=[week.label for week in period_weeks(start, end)],
        collectors=found,
        totals=Totals(
            collected=money(sum((s.collected for s in found), ZERO)),
            reversed=money(sum((s.reversed for s in found), ZERO)),
            commission=money(sum((s.commission for s in found), ZERO)),
            bonus=money(sum((s.bonus for s in found), ZERO)),
            total=money(sum((s.total for s in found), ZERO)),
        ),
    )


def _cash_when_confirmed(
    session: Session, start: date, end: date, collector_id: uuid.UUID | None, tz: tzinfo
) -> list[AppliedRow]:
    """The period's rows with cash counted at its handover's confirmation: the cash payments
    confirmed in the period join the rows (whatever their own date) and their payment lines move
    to the confirmation's business day; cash payment lines outside that rule, and reversals of
    cash never confirmed, leave. Two more queries (the confirmed ids, and method + confirmation
    of every payment in the rows)."""
    first, _ = day_bounds(start, tz)
    _, last = day_bounds(end, tz)
    confirmed = cash_repo.confirmed_between(session, first, last, collector_id)
    rows = commissions_repo.applied_in_period(
        session, start, end, collector_id, also_payments=confirmed
    )
    cash = cash_repo.confirmed_on(session, {r.payment_id for r in rows})
    kept = []
    for row in rows:
        if row.payment_id not in cash:
            kept.append(row)  # not cash
            continue
        decided_at = cash[row.payment_id]
        if decided_at is None:
            continue  # cash never confirmed: neither its lines nor their reversal count
        if row.reversal_id is not None:
            kept.append(row)
            continue
        day = business_date(decided_at, tz)
        if start <= day <= end:
            kept.append(row._replace(line_date=day))
    return kept


def _lines(rules: CommissionRules, rows: list[AppliedRow]) -> dict[uuid.UUID, list[StatementLine]]:
    """Each row priced by the rules of shared/commissions.py: the invoice's bucket on the
    payment's day and its percent (memoised per (due date, payment day): a month has some
    200,000 lines but far fewer pairs), the commission rounded by `line_commission`; a reversal
    row is the exact negation of its payment's line (as `reversal_lines` makes it)."""
    buckets: dict[tuple[date, date], tuple[str, Decimal]] = {}
    commissions: dict[tuple[Decimal, str | None], Decimal] = {}  # amounts repeat (round sums)
    result: dict[uuid.UUID, list[StatementLine]] = defaultdict(list)
    for p in sorted(rows, key=attrgetter("allocation_id")):
        bucket: str | None = None
        percent = ZERO
        if p.due_date is not None:
            key = (p.due_date, p.paid_on)
            found = buckets.get(key)
            if found is None:
                name = rules.bucket(p.due_date, p.paid_on)
                found = buckets[key] = (name, rules.rate(name))
            bucket, percent = found
        amount = p.applied
        commission = commissions.get((amount, bucket))
        if commission is None:
            commission = commissions[(amount, bucket)] = line_commission(rules, amount, bucket)
        if p.reversal_id is not None:
            amount, commission = -amount, -commission
        result[p.collector_id].append(
            StatementLine(
                kind="payment" if p.reversal_id is None else "reversal",
                day=p.line_date,
                paid_on=p.paid_on,
                payment_id=p.payment_id,
                reversal_id=p.reversal_id,
                receipt=p.receipt.removeprefix(_RECEIPT_PREFIX),
                client_code=p.client_code,
                client_name=p.client_name,
                invoice=p.invoice_number,
                due_date=p.due_date,
                bucket=bucket,
                percent=percent,
                amount=amount,
                commission=commission,
                held=p.held_reason,
            )
        )
    for lines in result.values():  # stable: a payment's lines stay in allocation order
        lines.sort(key=lambda ln: (ln.day, ln.kind == "reversal", ln.receipt))
    return result


def _week(
    rules: CommissionRules,
    week: IsoWeek,
    collector_id: uuid.UUID,
    contacts: dict[tuple[uuid.UUID, date], int],
) -> WeekBonus:
    effective = sum(
        contacts.get((collector_id, week.monday + timedelta(days=d)), 0) for d in range(7)
    )
    return WeekBonus(
        week=week.label,
        monday=week.monday,
        sunday=week.sunday,
        effective_contacts=effective,
        target=rules.bonus_target,
        bonus=weekly_bonus(rules, effective),
    )


def _statement(
    rules: CommissionRules,
    who: commissions_repo.CollectorRow,
    start: date,
    end: date,
    lines: list[StatementLine],
    weeks: list[WeekBonus],
) -> Statement:
    payment_amounts: dict[uuid.UUID, Decimal] = {}
    reversed_amounts: dict[uuid.UUID, Decimal] = {}
    for line in lines:
        target = payment_amounts if line.kind == "payment" else reversed_amounts
        target[line.payment_id] = target.get(line.payment_id, ZERO) + abs(line.amount)
    commission = money(sum((line.commission for line in lines), ZERO))
    bonus = money(sum((week.bonus for week in weeks), ZERO))
    return Statement(
        collector=who.username,
        collector_id=who.id,
        full_name=who.full_name,
        start=start,
        end=end,
        rule_version=rules.version,
        payments=len(payment_amounts),
        collected=money(sum(payment_amounts.values(), ZERO)),
        reversals=len(reversed_amounts),
        reversed=money(sum(reversed_amounts.values(), ZERO)),
        commission=commission,
        bonus=bonus,
        total=money(commission + bonus),
        lines=lines,
        weeks=weeks,
    )
