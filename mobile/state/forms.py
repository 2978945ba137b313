"""The three field forms: what was typed, what is wrong (message ids per field), and the typed
values a service records. Warnings never block: a visit outside legal hours or far from the
client is still a fact the collector must be able to record (domain.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import cast

from mobile.state.i18n import Lang
from mobile.state.inputs import InputError, parse_amount_input, parse_date_input
from shared.calendar import business_date
from shared.contact_rules import ContactRules, time_violation
from shared.geo import Fix, Point, distance_m, verification_radius_m
from sync.protocol import PAYMENT_METHODS, VISIT_OUTCOMES, PaymentMethod, VisitOutcome

Errors = dict[str, tuple[str, dict[str, object]]]  # field -> (message id, placeholders)

MAX_NOTES = 2000
MAX_REFERENCE = 500
DEFAULT_PROMISE_HORIZON_DAYS = 30


def _error(errors: Errors, name: str, exc: InputError) -> None:
    errors[name] = (exc.key, dict(exc.values))


@dataclass(frozen=True)
class Notice:
    key: str
    values: dict[str, object] = field(default_factory=dict)


@dataclass
class VisitForm:
    outcome: str = ""
    notes: str = ""
    fix: Fix | None = None
    gps_done: bool = False  # the wait for a fix is over (with or without one)
    errors: Errors = field(default_factory=dict)

    def offer_fix(self, fix: Fix) -> None:
        """Keep the most accurate reading seen while the form is open."""
        if self.fix is None or fix.accuracy_m < self.fix.accuracy_m:
            self.fix = fix

    def validate(self) -> tuple[VisitOutcome, str] | None:
        self.errors = {}
        if self.outcome not in VISIT_OUTCOMES:
            self.errors["outcome"] = ("error.choose", {})
        notes = self.notes.strip()
        if len(notes) > MAX_NOTES:
            self.errors["notes"] = ("error.too_long", {"n": MAX_NOTES})
        if self.errors:
            return None
        return cast(VisitOutcome, self.outcome), notes


def visit_warnings(
    *,
    now: datetime,
    rules: ContactRules | None,
    fix: Fix | None,
    client_location: Point | None,
    tz: tzinfo | str | None = None,
) -> list[Notice]:
    warnings = []
    if rules is not None:
        violation = time_violation(rules, now, tz)
        if violation is not None:
            warnings.append(Notice("warn.contact_hours", {"reason": violation.message}))
    if fix is not None and client_location is not None:
        distance = distance_m(fix.point, client_location)
        radius = verification_radius_m(fix.accuracy_m)
        if distance > radius:
            warnings.append(Notice("warn.far", {"distance": distance, "radius": round(radius)}))
    return warnings


@dataclass
class PromiseForm:
    amount: str = ""
    due: str = ""
    errors: Errors = field(default_factory=dict)

    def validate(
        self,
        *,
        now: datetime,
        lang: Lang = "es",
        tz: tzinfo | str | None = None,
        horizon_days: int = DEFAULT_PROMISE_HORIZON_DAYS,
    ) -> tuple[Decimal, date] | None:
        self.errors = {}
        amount: Decimal | None = None
        due: date | None = None
        try:
            amount = parse_amount_input(self.amount, lang)
        except InputError as exc:
            _error(self.errors, "amount", exc)
        try:
            due = parse_date_input(self.due)
            today = business_date(now, tz)
            last = today + timedelta(days=horizon_days)
            if due < today:
                raise InputError("error.date_past")
            if due > last:
                raise InputError("error.date_horizon", date=last)
        except InputError as exc:
            _error(self.errors, "due", exc)
        if self.errors or amount is None or due is None:
            return None
        return amount, due


@dataclass(frozen=True)
class PaymentDraft:
    amount: Decimal
    method: PaymentMethod
    reference: str
    invoice_numbers: tuple[str, ...]


@dataclass
class PaymentForm:
    amount: str = ""
    method: str = "cash"
    reference: str = ""
    invoice_numbers: list[str] = field(default_factory=list)
    errors: Errors = field(default_factory=dict)
    draft: PaymentDraft | None = None  # set once validated: the confirmation step shows it

    def validate(self, *, lang: Lang = "es") -> PaymentDraft | None:
        self.errors = {}
        self.draft = None
        amount: Decimal | None = None
        try:
            amount = parse_amount_input(self.amount, lang)
        except InputError as exc:
            _error(self.errors, "amount", exc)
        if self.method not in PAYMENT_METHODS:
            self.errors["method"] = ("error.choose", {})
        reference = self.reference.strip()
        if len(reference) > MAX_REFERENCE:
            self.errors["reference"] = ("error.too_long", {"n": MAX_REFERENCE})
        if self.errors or amount is None:
            return None
        self.draft = PaymentDraft(
            amount, cast(PaymentMethod, self.method), reference, tuple(self.invoice_numbers)
        )
        return self.draft

    def over_balance(self, balance: Decimal) -> bool:
        return self.draft is not None and self.draft.amount > balance
