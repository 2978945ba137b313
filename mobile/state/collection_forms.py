"""The issue 7 forms: Proponer acuerdo (an installment schedule built from a count, a first date
and a frequency, then editable), Registrar glosa, and Entregar efectivo. What was typed, the
errors as message ids per field, and the typed values a service records."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_DOWN, Decimal
from typing import Final, Literal, cast

from mobile.state.forms import MAX_NOTES, MAX_REFERENCE, Errors, _error
from mobile.state.i18n import Lang, Texts
from mobile.state.inputs import InputError, parse_amount_input, parse_date_input
from shared.calendar import business_date
from shared.money import ZERO
from sync.protocol import (
    DISPUTE_REASONS,
    MAX_INSTALLMENTS,
    DisputeKind,
    DisputeReason,
    HandoverMethod,
)

Frequency = Literal["weekly", "biweekly", "monthly"]
FREQUENCIES: Final[tuple[Frequency, ...]] = ("weekly", "biweekly", "monthly")
DISPUTE_KINDS: Final[tuple[DisputeKind, ...]] = ("dispute", "return")
HANDOVER_METHODS: Final[tuple[HandoverMethod, ...]] = ("bank_deposit", "office")
# How far ahead an agreement's first installment may start, and its last one end.
FIRST_DUE_HORIZON_DAYS: Final = 90
LAST_DUE_HORIZON_DAYS: Final = 5 * 366


def add_months(day: date, months: int) -> date:
    """The same day `months` later, on the month's last day when it has no such day
    (31/01 + 1 month = 28/02 or 29/02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(first: date, count: int, frequency: Frequency) -> list[date]:
    if frequency == "monthly":
        return [add_months(first, n) for n in range(count)]
    step = 7 if frequency == "weekly" else 14
    return [first + timedelta(days=step * n) for n in range(count)]


def split_amount(total: Decimal, count: int) -> list[Decimal]:
    """`count` equal installments in whole pesos (in cents when the total has cents); the
    remainder goes on the last one, so they add up to the total exactly."""
    unit = Decimal("1") if total == total.to_integral_value() else Decimal("0.01")
    base = (total / count).quantize(unit, rounding=ROUND_DOWN)
    return [base] * (count - 1) + [total - base * (count - 1)]


@dataclass
class InstallmentInput:
    due: str = ""
    amount: str = ""


@dataclass
class AgreementForm:
    total: str = ""
    count: str = ""
    first: str = ""
    frequency: str = "monthly"
    notes: str = ""
    rows: list[InstallmentInput] = field(default_factory=list)
    errors: Errors = field(default_factory=dict)

    def _total(self, lang: Lang, balance: Decimal | None) -> Decimal | None:
        try:
            total = parse_amount_input(self.total, lang)
        except InputError as exc:
            _error(self.errors, "total", exc)
            return None
        if balance is not None and total > balance:
            self.errors["total"] = ("error.agreement_over_balance", {"balance": balance})
            return None
        return total

    def _first_due(self, today: date) -> date | None:
        try:
            first = parse_date_input(self.first)
            if first < today:
                raise InputError("error.date_past")
            last = today + timedelta(days=FIRST_DUE_HORIZON_DAYS)
            if first > last:
                raise InputError("error.date_horizon", date=last)
        except InputError as exc:
            _error(self.errors, "first", exc)
            return None
        return first

    def generate(
        self,
        *,
        now: datetime,
        lang: Lang = "es",
        tz: tzinfo | str | None = None,
        balance: Decimal | None = None,
    ) -> bool:
        """Build the editable schedule from the total, the count, the first date and the
        frequency; the rows typed before are replaced."""
        self.errors = {}
        total = self._total(lang, balance)
        first = self._first_due(business_date(now, tz))
        count = 0
        try:
            count = int(self.count.strip())
        except ValueError:
            self.errors["count"] = ("error.installments", {"n": MAX_INSTALLMENTS})
        if not 1 <= count <= MAX_INSTALLMENTS:
            self.errors["count"] = ("error.installments", {"n": MAX_INSTALLMENTS})
        if self.frequency not in FREQUENCIES:
            self.errors["frequency"] = ("error.choose", {})
        if self.errors or total is None or first is None:
            return False
        if total / count < 1:
            self.errors["count"] = ("error.installment_too_small", {})
            return False
        dates = due_dates(first, count, cast(Frequency, self.frequency))
        texts = Texts(lang)
        self.rows = [
            InstallmentInput(texts.date(due), texts.plain_amount(amount))
            for due, amount in zip(dates, split_amount(total, count), strict=True)
        ]
        return True

    def typed_sum(self, lang: Lang = "es") -> Decimal | None:
        """What the rows add up to as typed (None while one does not read as an amount)."""
        try:
            return sum((parse_amount_input(r.amount, lang) for r in self.rows), ZERO)
        except InputError:
            return None

    def validate(
        self,
        *,
        now: datetime,
        lang: Lang = "es",
        tz: tzinfo | str | None = None,
        balance: Decimal | None = None,
    ) -> tuple[list[tuple[date, Decimal]], str] | None:
        self.errors = {}
        today = business_date(now, tz)
        total = self._total(lang, balance)
        if not self.rows:
            self.errors["schedule"] = ("error.no_schedule", {})
        schedule: list[tuple[date, Decimal]] = []
        previous: date | None = None
        for n, item in enumerate(self.rows):
            due: date | None = None
            amount: Decimal | None = None
            try:
                due = parse_date_input(item.due)
                if due < today:
                    raise InputError("error.date_past")
                if due > today + timedelta(days=LAST_DUE_HORIZON_DAYS):
                    last = today + timedelta(days=LAST_DUE_HORIZON_DAYS)
                    raise InputError("error.date_horizon", date=last)
                if previous is not None and due <= previous:
                    raise InputError("error.dates_in_order")
            except InputError as exc:
                _error(self.errors, f"due.{n}", exc)
            try:
                amount = parse_amount_input(item.amount, lang)
            except InputError as exc:
                _error(self.errors, f"amount.{n}", exc)
            if due is not None:
                previous = due
            if due is not None and amount is not None:
                schedule.append((due, amount))
        notes = self.notes.strip()
        if len(notes) > MAX_NOTES:
            self.errors["notes"] = ("error.too_long", {"n": MAX_NOTES})
        added = sum((amount for _, amount in schedule), ZERO)
        complete = bool(self.rows) and len(schedule) == len(self.rows)
        if total is not None and complete and added != total:
            self.errors["schedule"] = ("error.schedule_sum", {"sum": added, "total": total})
        if self.errors:
            return None
        return schedule, notes


@dataclass
class DisputeForm:
    invoice: str = ""
    amount: str = ""
    kind: str = "dispute"
    reason: str = ""
    notes: str = ""
    errors: Errors = field(default_factory=dict)

    def validate(
        self, *, available: dict[str, Decimal], lang: Lang = "es"
    ) -> tuple[str, Decimal, DisputeKind, DisputeReason, str] | None:
        """`available`: each open invoice's balance less what is already in dispute on it."""
        self.errors = {}
        if self.invoice not in available:
            self.errors["invoice"] = ("error.choose_invoice", {})
        amount: Decimal | None = None
        try:
            amount = parse_amount_input(self.amount, lang)
            limit = available.get(self.invoice)
            if limit is not None and amount > limit:
                raise InputError("error.dispute_over_balance", balance=limit)
        except InputError as exc:
            _error(self.errors, "amount", exc)
        if self.kind not in DISPUTE_KINDS:
            self.errors["kind"] = ("error.choose", {})
        if self.reason not in DISPUTE_REASONS:
            self.errors["reason"] = ("error.choose", {})
        notes = self.notes.strip()
        if len(notes) > MAX_NOTES:
            self.errors["notes"] = ("error.too_long", {"n": MAX_NOTES})
        if self.errors or amount is None:
            return None
        return (
            self.invoice,
            amount,
            cast(DisputeKind, self.kind),
            cast(DisputeReason, self.reason),
            notes,
        )


@dataclass
class HandoverForm:
    method: str = ""
    reference: str = ""
    day: str = ""
    selected: list[str] = field(default_factory=list)  # payment event ids, all by default
    errors: Errors = field(default_factory=dict)

    def validate(
        self, *, now: datetime, tz: tzinfo | str | None = None, in_hand: set[str]
    ) -> tuple[HandoverMethod, str, date, list[str]] | None:
        self.errors = {}
        if self.method not in HANDOVER_METHODS:
            self.errors["method"] = ("error.choose", {})
        reference = self.reference.strip()
        if self.method == "bank_deposit" and not reference:
            self.errors["reference"] = ("error.bank_reference", {})
        elif len(reference) > MAX_REFERENCE:
            self.errors["reference"] = ("error.too_long", {"n": MAX_REFERENCE})
        day: date | None = None
        try:
            day = parse_date_input(self.day)
            if day > business_date(now, tz):
                raise InputError("error.date_future")
        except InputError as exc:
            _error(self.errors, "day", exc)
        chosen = [i for i in self.selected if i in in_hand]
        if not chosen:
            self.errors["payments"] = ("error.no_payments", {})
        if self.errors or day is None:
            return None
        return cast(HandoverMethod, self.method), reference, day, chosen
