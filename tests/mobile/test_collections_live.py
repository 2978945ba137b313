"""The phone's issue 7 work against the REAL server (in-process, SQLite and PostgreSQL), driven
through the app's state as the screens drive it: Proponer acuerdo, Registrar glosa, two cash
payments and Entregar efectivo by bank deposit, all offline, then one sync. The server keeps the
agreement and the dispute under the events' ids (the phone then shows each once), records the
handover pending; the office approves the agreement, rejects the handover and refers the client
to a law firm, and the next sync brings it all back: agreement active, the handover rejected with
its note and its payments cash in hand again, the client in cobro jurídico and out of the route.
A second handover confirmed by the office leaves nothing in hand."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mobile.data.models import OutboxRow
from mobile.state.app import AppState
from server.db.models import CashHandover, Dispute, PaymentAgreement
from shared.calendar import business_tz
from shared.geo import Point
from tests.mobile.live import enroll
from tests.mobile.test_state_app import FakeEnroller
from tests.server.sync_helpers import MakeUser, check_invariants, invoice

D = Decimal
TZ = business_tz("America/Bogota")


def now() -> datetime:
    return datetime.now(TZ)


def test_agreement_glosa_and_cash_handover_round_trip_through_the_real_server(  # type: ignore[no-untyped-def]
    client: TestClient, session: Session, make_user: MakeUser, make_client, tmp_path: Path
) -> None:
    collector, office = make_user("collector"), make_user("supervisor")
    phone = enroll(client, collector, tmp_path / "phone.db")
    ips = make_client(collector=collector.user, name="IPS Salud Norte", lat=4.65, lon=-74.06)
    today = now().date()
    invoice(session, ips, "FE-100", today - timedelta(days=40), "500000.00")
    invoice(session, ips, "FE-101", today + timedelta(days=20), "200000.00")
    assert phone.sync().ok

    app = AppState(db=phone.db, clock=now, enroller=FakeEnroller())
    app.start()
    app.open_client(str(ips.id))
    # Proponer acuerdo: 300.000 in 3 monthly installments from a week from today.
    app.start_agreement()
    app.agreement.total, app.agreement.count = "300.000", "3"
    assert app.build_schedule() and app.save_agreement(), app.agreement.errors
    # Registrar glosa: 50.000 of FE-100 for tariffs.
    app.start_dispute()
    app.dispute.invoice, app.dispute.amount, app.dispute.reason = "FE-100", "50.000", "tariffs"
    assert app.save_dispute(), app.dispute.errors
    # Two cash payments, then all of the cash handed over by bank deposit.
    for amount in ("100.000", "40.000"):
        app.start_payment()
        app.payment.amount = amount
        assert app.review_payment() and app.confirm_payment()
    app.go("cash")
    app.start_handover()
    app.handover.method, app.handover.reference = "bank_deposit", "BC-2026-118"
    assert app.save_handover(), app.handover.errors
    assert app.cash().lines == ()

    report = phone.sync()
    assert report.ok and report.pushed == 5, report
    with phone.db() as local:
        rows = {r.type: r for r in local.scalars(select(OutboxRow))}
        assert {r.state for r in local.scalars(select(OutboxRow))} == {"acked"}
    agreement_id = uuid.UUID(rows["agreement.proposed"].event_id)
    dispute_id = uuid.UUID(rows["dispute.opened"].event_id)
    handover_event = uuid.UUID(rows["cash.handed_over"].event_id)
    session.expire_all()
    agreement = session.get(PaymentAgreement, agreement_id)
    assert agreement is not None and (agreement.status, agreement.total) == (
        "proposed", D("300000.00")
    )  # fmt: skip
    dispute = session.get(Dispute, dispute_id)
    assert dispute is not None and (dispute.status, dispute.amount) == ("open", D("50000.00"))
    handover = session.scalars(
        select(CashHandover).where(CashHandover.event_id == handover_event)
    ).one()
    assert handover.amount == D("140000.00")

    app.reload()  # each shown once, now the server's
    detail = app.detail()
    assert detail is not None
    assert [(a.id, a.standing, a.local_state) for a in detail.agreements] == [
        (str(agreement_id), "proposed", None)
    ]  # fmt: skip
    assert [(d.id, d.amount, d.local_state) for d in detail.disputes] == [
        (str(dispute_id), D("50000.00"), None)
    ]  # fmt: skip

    # The office decides.
    office_headers = office.headers
    answer = client.post(f"/v1/agreements/{agreement_id}/approve", headers=office_headers)
    assert answer.status_code == 200, answer.text
    answer = client.post(
        f"/v1/cash/handovers/{handover.id}/reject",
        json={"note": "La consignación no aparece en el banco"},
        headers=office_headers,
    )
    assert answer.status_code == 200, answer.text
    firm = client.post("/v1/law-firms", json={"name": "Abogados Uno"}, headers=office_headers)
    assert firm.status_code == 201, firm.text
    referral = client.post(
        f"/v1/clients/{ips.id}/legal-referrals",
        json={"law_firm_id": firm.json()["id"], "reason": "Tres promesas incumplidas"},
        headers=office_headers,
    )
    assert referral.status_code == 201, referral.text

    assert phone.sync().ok
    app.reload()
    detail = app.detail()
    assert detail is not None and detail.record.legal
    (active,) = detail.agreements
    assert active.standing == "on_track" and active.id == str(agreement_id)
    view = app.cash()
    assert view.total == D("140000.00") and len(view.lines) == 2  # back in hand
    (rejected,) = view.handovers
    assert (rejected.decision, rejected.note) == (
        "rejected", "La consignación no aparece en el banco"
    )  # fmt: skip
    app.route_start = Point(4.64, -74.05)
    assert app.plan_route() and app.route is not None
    assert dict(app.route.skipped).get(str(ips.id)) == "legal"

    # Handed over again, at the office this time, and confirmed.
    app.go("cash")
    app.start_handover()
    app.handover.method = "office"
    assert app.save_handover(), app.handover.errors
    assert phone.sync().ok
    session.expire_all()
    again = session.scalars(
        select(CashHandover).where(CashHandover.event_id != handover_event)
    ).one()
    answer = client.post(
        f"/v1/cash/handovers/{again.id}/confirm",
        json={"amount": "140000.00"},
        headers=office_headers,
    )
    assert answer.status_code == 200, answer.text
    assert phone.sync().ok
    app.reload()
    assert app.cash().lines == ()
    assert [h.decision for h in app.cash().handovers] == ["confirmed", "rejected"]
    check_invariants(session)
