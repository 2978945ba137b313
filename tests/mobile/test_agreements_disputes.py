"""Issue 7 on the phone, without Flet or a server: the agreement schedule (count, first date,
frequency, editable, summing to the amount) and its Spanish validation, `agreement.proposed`
and `dispute.opened` through the outbox, the mirror's agreements/disputes/legal from a pull,
the standing recomputed at the phone's date (broken offline, mended by a payment taken here),
and a client in cobro jurídico marked and left out of the route."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import OutboxRow
from mobile.services.field_collections import record_dispute
from mobile.services.outbox import apply_push_results
from mobile.services.portfolio import load_clients
from mobile.services.pulling import apply_page
from mobile.state.app import AppState
from mobile.state.collection_forms import AgreementForm, add_months, due_dates, split_amount
from mobile.state.i18n import Texts
from mobile.ui.screens.collections import error_text
from shared.errors import InvalidInput, NotFound
from shared.geo import Point
from sync.protocol import AgreementProposed, DisputeOpened, PushResult
from tests.mobile.conftest import MORNING
from tests.mobile.pages import page, put
from tests.mobile.test_state_app import make_app

D = Decimal
TODAY = MORNING.date()  # Monday 23/11/2026 in Bogotá
ES = Texts("es")


def invoices(*items: tuple[str, int, str]) -> list[dict[str, Any]]:
    """(number, days past due, balance) as the server sends open invoices."""
    return [
        {"number": n, "due_date": (TODAY - timedelta(days=d)).isoformat(), "balance": b,
         "bucket": "x"}
        for n, d, b in items
    ]  # fmt: skip


def pulled(db: sessionmaker[Session], seq: int = 1, version: int = 1, **data: Any) -> str:
    """One client put as the server sends it; returns the client's id."""
    client_id = str(data.pop("client_id", uuid.uuid4()))
    balance = str(data.pop("balance", "300000.00"))
    change = put(client_id, version, seq, balance=balance, code="C-1", name="Droguería Sol",
                 **data)  # fmt: skip
    apply_page(db, page(change, cursor=f"c{seq}"), now=MORNING)
    return client_id


def outbox(db: sessionmaker[Session], event_type: str) -> list[OutboxRow]:
    with db() as session:
        query = select(OutboxRow).where(OutboxRow.type == event_type)
        return list(session.scalars(query.order_by(OutboxRow.device_seq)))


def error(form_errors: Any, name: str) -> str | None:
    """The message shown (amounts keep a no-break space after "$"), read with plain spaces."""
    shown = error_text(ES, form_errors, name)
    return None if shown is None else shown.replace("\u00a0", " ")


# --- the schedule ---------------------------------------------------------------------------


def test_an_amount_splits_into_equal_installments_with_the_remainder_on_the_last() -> None:
    assert split_amount(D("100000"), 3) == [D("33333"), D("33333"), D("33334")]
    assert split_amount(D("1000.50"), 4) == [D("250.12"), D("250.12"), D("250.12"), D("250.14")]
    for total, n in ((D("999999"), 7), (D("12345.67"), 60), (D("5"), 5)):
        parts = split_amount(total, n)
        assert len(parts) == n and sum(parts) == total and min(parts) > 0


def test_due_dates_weekly_biweekly_and_monthly_to_the_months_last_day() -> None:
    first = date(2027, 1, 31)
    assert due_dates(first, 3, "weekly") == [first, date(2027, 2, 7), date(2027, 2, 14)]
    assert due_dates(first, 2, "biweekly") == [first, date(2027, 2, 14)]
    assert due_dates(first, 4, "monthly") == [
        first, date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)
    ]  # fmt: skip
    assert add_months(date(2027, 12, 15), 2) == date(2028, 2, 15)
    assert add_months(date(2028, 1, 29), 1) == date(2028, 2, 29)  # a leap year


def test_the_form_builds_an_editable_schedule_and_explains_what_is_wrong_in_spanish() -> None:
    form = AgreementForm(total="300.000", count="3", first="01/12/2026", frequency="monthly")
    assert form.generate(now=MORNING, tz="America/Bogota", balance=D("300000"))
    assert [(r.due, r.amount) for r in form.rows] == [
        ("01/12/2026", "100.000"), ("01/01/2027", "100.000"), ("01/02/2027", "100.000")
    ]  # fmt: skip

    form.rows[1].amount = "90.000"  # the client pays less in January...
    assert form.validate(now=MORNING, balance=D("300000")) is None
    assert error(form.errors, "schedule") == "Las cuotas suman $ 290.000; deben sumar $ 300.000"
    assert form.typed_sum() == D("290000")
    form.rows[2].amount = "110.000"  # ...and more in February
    form.rows[2].due = "15/12/2026"  # before the January installment
    assert form.validate(now=MORNING, balance=D("300000")) is None
    assert error(form.errors, "due.2") == "Cada fecha debe ser posterior a la anterior"
    form.rows[2].due = "01/02/2027"
    form.rows[0].due = "20/11/2026"
    assert form.validate(now=MORNING, balance=D("300000")) is None
    assert error(form.errors, "due.0") == "La fecha no puede ser anterior a hoy"
    form.rows[0].due = "01/12/2026"
    schedule, notes = form.validate(now=MORNING, balance=D("300000")) or ([], "?")
    assert notes == ""
    assert schedule == [
        (date(2026, 12, 1), D("100000")),
        (date(2027, 1, 1), D("90000")),
        (date(2027, 2, 1), D("110000")),
    ]

    over = AgreementForm(total="400.000", count="2", first="01/12/2026")
    assert not over.generate(now=MORNING, balance=D("300000"))
    assert error(over.errors, "total") == "El acuerdo no puede superar el saldo ($ 300.000)"
    bad = AgreementForm(total="100.000", count="61", first="1/13/2026")
    assert not bad.generate(now=MORNING, balance=D("300000"))
    assert error(bad.errors, "count") == "Escriba de 1 a 60 cuotas"
    assert error(bad.errors, "first") == "Escriba la fecha así: 31/12/2026"
    empty = AgreementForm(total="100.000")
    assert empty.validate(now=MORNING) is None
    assert error(empty.errors, "schedule") == "Toque «Calcular cuotas» para armar el plan"


# --- proposing an agreement ----------------------------------------------------------------


@pytest.fixture
def app(db: sessionmaker[Session]) -> AppState:
    return make_app(db)


def test_proposing_an_agreement_queues_one_event_shown_until_the_server_lists_it(
    app: AppState, db: sessionmaker[Session]
) -> None:
    client_id = pulled(db, invoices=invoices(("F-1", 40, "300000.00")))
    app.reload()
    app.open_client(client_id)
    app.start_agreement()
    assert app.screen == "agreement"
    assert (app.agreement.total, app.agreement.first) == ("300.000", "30/11/2026")
    app.agreement.count = "2"
    app.agreement.frequency = "biweekly"
    assert app.build_schedule()
    assert [r.due for r in app.agreement.rows] == ["30/11/2026", "14/12/2026"]
    app.agreement.notes = "  paga con la prima  "
    assert app.save_agreement()
    assert not app.save_agreement()  # a second tap records nothing
    assert (app.screen, app.message) == ("client", "Acuerdo propuesto: la oficina lo aprueba")

    (row,) = outbox(db, "agreement.proposed")
    payload = AgreementProposed.model_validate_json(row.payload)
    assert [(i.due_date, i.amount) for i in payload.installments] == [
        (date(2026, 11, 30), D("150000.00")), (date(2026, 12, 14), D("150000.00"))
    ]  # fmt: skip
    assert (payload.notes, row.client_id, row.amount, row.state) == (
        "paga con la prima", client_id, D("300000.00"), "pending"
    )  # fmt: skip
    detail = app.detail()
    assert detail is not None
    (local,) = detail.agreements
    assert (local.id, local.standing, local.local_state) == (row.event_id, "proposed", "pending")
    assert local.total == D("300000.00") and len(local.installments) == 2

    # Sent, then the server lists it under the event's id: shown once, the server's.
    apply_push_results(
        db, [PushResult(event_id=uuid.UUID(row.event_id), status="applied", server_seq=7)],
        now=MORNING,
    )  # fmt: skip
    agreement = {
        "id": row.event_id, "standing": "proposed", "total": "300000.00",
        "installments": [
            {"due_date": "2026-11-30", "amount": "150000.00"},
            {"due_date": "2026-12-14", "amount": "150000.00"},
        ],
    }  # fmt: skip
    pulled(db, seq=8, version=2, client_id=client_id, agreements=[agreement])
    app.reload()
    detail = app.detail()
    assert detail is not None
    (shown,) = detail.agreements
    assert (shown.id, shown.standing, shown.local_state) == (row.event_id, "proposed", None)
    assert [i.status for i in shown.installments] == ["pending", "pending"]

    # Rejected in the office: the next put no longer lists it, and the phone does not either.
    pulled(db, seq=9, version=3, client_id=client_id)
    app.reload()
    assert app.detail().agreements == ()  # type: ignore[union-attr]


def test_a_missed_installment_breaks_the_agreement_offline_and_a_payment_here_mends_it(
    app: AppState, db: sessionmaker[Session]
) -> None:
    """The server said `late` at its pull (due 10 days ago); at today's date the grace is
    over: missed, broken, flagged on Hoy and on the client. 50.000 collected here covers it."""
    agreement = {
        "id": str(uuid.uuid4()), "standing": "on_track", "total": "100000.00",
        "installments": [
            {"due_date": (TODAY - timedelta(days=10)).isoformat(), "amount": "50000.00",
             "status": "late"},
            {"due_date": (TODAY + timedelta(days=20)).isoformat(), "amount": "50000.00"},
        ],
    }  # fmt: skip
    client_id = pulled(db, agreements=[agreement], balance="100000.00")
    app.reload()
    app.open_client(client_id)
    detail = app.detail()
    assert detail is not None and detail.agreement_broken
    assert [i.status for i in detail.agreements[0].installments] == ["missed", "pending"]
    assert next(r for r in app.rows if r.id == client_id).agreement_broken

    app.start_payment()
    app.payment.amount = "50.000"
    assert app.review_payment() and app.confirm_payment()
    detail = app.detail()
    assert detail is not None and not detail.agreement_broken
    (shown,) = detail.agreements
    assert (shown.standing, [i.status for i in shown.installments]) == (
        "on_track", ["paid", "pending"]
    )  # fmt: skip
    assert shown.paid == D("50000.00")


def test_a_pull_mirrors_agreements_open_disputes_and_the_legal_flag(
    db: sessionmaker[Session],
) -> None:
    dispute = {"id": str(uuid.uuid4()), "invoice_number": "F-9", "amount": "1200.50",
               "kind": "return", "reason_code": "supports"}  # fmt: skip
    client_id = pulled(db, disputes=[dispute], legal=True, invoices=invoices(("F-9", 5, "9000")))
    (record,) = load_clients(db)
    assert record.id == client_id and record.legal
    (mirrored,) = record.disputes
    assert (mirrored.invoice_number, mirrored.amount, mirrored.kind, mirrored.reason_code) == (
        "F-9", D("1200.50"), "return", "supports"
    )  # fmt: skip
    pulled(db, seq=2, version=2, client_id=client_id)  # referral closed, dispute decided
    (record,) = load_clients(db)
    assert (record.legal, record.disputes, record.agreements) == (False, (), ())


# --- disputes -------------------------------------------------------------------------------


def test_registering_a_glosa_checks_the_invoice_and_what_is_left_to_dispute(
    app: AppState, db: sessionmaker[Session]
) -> None:
    open_dispute = {"id": str(uuid.uuid4()), "invoice_number": "F-1", "amount": "30000.00",
                    "reason_code": "tariffs"}  # fmt: skip
    client_id = pulled(
        db, invoices=invoices(("F-1", 40, "100000.00"), ("F-2", 10, "50000.00")),
        disputes=[open_dispute],
    )  # fmt: skip
    app.reload()
    app.open_client(client_id)
    assert app.dispute_limits() == {"F-1": D("70000.00"), "F-2": D("50000.00")}
    app.start_dispute()
    assert not app.save_dispute()
    form = app.dispute
    assert error(form.errors, "invoice") == "Elija la factura"
    assert error(form.errors, "amount") == "Obligatorio"
    assert error(form.errors, "reason") == "Elija una opción"
    form.invoice, form.amount, form.reason = "F-1", "80.000", "authorization"
    assert not app.save_dispute()
    assert error(form.errors, "amount") == (
        "No puede superar lo que queda por glosar de la factura ($ 70.000)"
    )
    form.amount, form.kind, form.notes = "70.000", "return", "sin autorización previa"
    assert app.save_dispute()
    assert (app.screen, app.message) == ("client", "Glosa registrada")

    (row,) = outbox(db, "dispute.opened")
    payload = DisputeOpened.model_validate_json(row.payload)
    assert (payload.invoice_number, payload.amount, payload.kind, payload.reason_code) == (
        "F-1", D("70000.00"), "return", "authorization"
    )  # fmt: skip
    detail = app.detail()
    assert detail is not None
    assert [(d.invoice_number, d.amount, d.local_state) for d in detail.disputes] == [
        ("F-1", D("30000.00"), None), ("F-1", D("70000.00"), "pending")
    ]  # fmt: skip
    assert {i.number: i.disputed for i in detail.invoices} == {
        "F-1": D("100000.00"), "F-2": D("0")
    }  # fmt: skip
    assert app.dispute_limits()["F-1"] == D("0")


def test_the_service_refuses_an_unknown_invoice_or_more_than_its_balance(
    db: sessionmaker[Session],
) -> None:
    client_id = pulled(db, invoices=invoices(("F-1", 40, "100000.00")))
    with pytest.raises(NotFound) as unknown:
        record_dispute(db, client_id=client_id, invoice_number="F-404", amount=D("1"),
                       kind="dispute", reason_code="billing", now=MORNING)  # fmt: skip
    assert unknown.value.code == "invoice_not_open"
    with pytest.raises(InvalidInput) as over:
        record_dispute(db, client_id=client_id, invoice_number="F-1", amount=D("100000.01"),
                       kind="dispute", reason_code="billing", now=MORNING)  # fmt: skip
    assert over.value.code == "dispute_over_balance"
    with pytest.raises(InvalidInput) as reason:
        record_dispute(db, client_id=client_id, invoice_number="F-1", amount=D("1"),
                       kind="dispute", reason_code="mood", now=MORNING)  # type: ignore[arg-type]  # fmt: skip
    assert reason.value.code == "invalid_event"
    assert outbox(db, "dispute.opened") == []
    with db() as session:  # nothing refused took a device_seq
        assert list(session.scalars(select(OutboxRow.device_seq))) == []


# --- cobro jurídico -------------------------------------------------------------------------


def test_a_client_in_cobro_juridico_is_marked_and_left_out_of_the_route(
    app: AppState, db: sessionmaker[Session]
) -> None:
    legal = pulled(db, legal=True, lat=4.60, lon=-74.08, invoices=invoices(("F-1", 200, "9000")))
    other = pulled(db, seq=2, lat=4.61, lon=-74.09, invoices=invoices(("F-2", 30, "9000")))
    app.route_start = Point(4.605, -74.085)
    app.reload()
    assert next(r for r in app.rows if r.id == legal).legal
    assert app.plan_route()
    assert app.route is not None
    assert app.route.order == (other,)
    assert dict(app.route.skipped) == {legal: "legal"}
    row = next(r for r in app.rows if r.id == legal)
    assert (row.stop_no, row.skip_reason) == (None, "legal")
    assert ES(f"reason.{row.skip_reason}") == "en cobro jurídico"
