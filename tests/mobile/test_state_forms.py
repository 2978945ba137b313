"""Visit, promise and payment forms: validation, and warnings that never block."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from mobile.state.forms import PaymentForm, PromiseForm, VisitForm, visit_warnings
from shared.contact_rules import load_rules
from shared.geo import Fix, Point
from tests.mobile.conftest import BOGOTA, MORNING

TZ = "America/Bogota"


def test_promise_date_today_up_to_the_horizon() -> None:
    form = PromiseForm(amount="50.000", due="23/11/2026")  # MORNING is 23/11/2026
    assert form.validate(now=MORNING, tz=TZ) == (Decimal("50000.00"), MORNING.date())
    form.due = "23/12/2026"
    assert form.validate(now=MORNING, tz=TZ, horizon_days=30) is not None
    form.due = "24/12/2026"
    assert form.validate(now=MORNING, tz=TZ, horizon_days=30) is None
    assert form.errors["due"][0] == "error.date_horizon"


def test_promise_refuses_past_dates_and_bad_amounts_together() -> None:
    form = PromiseForm(amount="50,5,0", due="22/11/2026")
    assert form.validate(now=MORNING, tz=TZ) is None
    assert {k: v[0] for k, v in form.errors.items()} == {
        "amount": "error.amount",
        "due": "error.date_past",
    }


def test_promise_day_is_the_business_day_not_utc() -> None:
    # 21:00 in Bogotá on the 23rd is already the 24th in UTC: "today" is still the 23rd.
    evening = datetime(2026, 11, 23, 21, 0, tzinfo=BOGOTA)
    form = PromiseForm(amount="1.000", due="23/11/2026")
    assert form.validate(now=evening, tz=TZ) is not None


def test_payment_draft_then_confirmation_data() -> None:
    form = PaymentForm(amount="$ 1.250.000,50", method="transfer", reference="  NEQUI 88 ")
    draft = form.validate()
    assert draft is not None and form.draft == draft
    assert (draft.amount, draft.method, draft.reference) == (
        Decimal("1250000.50"),
        "transfer",
        "NEQUI 88",
    )
    assert form.over_balance(Decimal("1000000"))
    assert not form.over_balance(Decimal("2000000"))


def test_payment_errors() -> None:
    form = PaymentForm(amount="", method="bitcoin", reference="x" * 501)
    assert form.validate() is None
    assert form.draft is None
    assert {k: v[0] for k, v in form.errors.items()} == {
        "amount": "error.required",
        "method": "error.choose",
        "reference": "error.too_long",
    }


def test_visit_form_keeps_the_best_fix_and_needs_an_outcome() -> None:
    form = VisitForm()
    form.offer_fix(Fix(Point(4.6, -74.08), 80))
    form.offer_fix(Fix(Point(4.61, -74.08), 12))
    form.offer_fix(Fix(Point(4.7, -74.08), 40))
    assert form.fix == Fix(Point(4.61, -74.08), 12)
    assert form.validate() is None
    assert form.errors == {"outcome": ("error.choose", {})}
    form.outcome, form.notes = "promise", "  vuelve el viernes "
    assert form.validate() == ("promise", "vuelve el viernes")


def test_visit_warnings_outside_hours_and_far_from_the_client() -> None:
    rules = load_rules("CO")
    client = Point(4.6097, -74.0817)
    near = Fix(Point(4.6098, -74.0817), 10)
    far = Fix(Point(4.6197, -74.0817), 10)  # about 1.1 km north
    assert visit_warnings(now=MORNING, rules=rules, fix=near, client_location=client, tz=TZ) == []

    sunday = MORNING - timedelta(days=1)
    late = datetime(2026, 11, 23, 20, 30, tzinfo=BOGOTA)
    keys = [
        w.key
        for w in visit_warnings(now=sunday, rules=rules, fix=far, client_location=client, tz=TZ)
    ]
    assert keys == ["warn.contact_hours", "warn.far"]
    (late_warning,) = visit_warnings(now=late, rules=rules, fix=None, client_location=client)
    assert "20:30" in str(late_warning.values["reason"])
    assert visit_warnings(now=late, rules=None, fix=None, client_location=None) == []
