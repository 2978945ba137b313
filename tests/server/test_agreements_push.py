"""`agreement.proposed` through the real push (server/services/field_agreements.py): stored once
under the event's id, held for unknown/closed/reassigned clients and for invalid schedules."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AgreementInstallment, InboundEvent, PaymentAgreement, ReviewItem
from tests.server.conftest import FakeClock
from tests.server.sync_helpers import (
    MakeUser,
    Phone,
    check_invariants,
    event,
    payment,
    push,
    register_phone,
    statuses,
)

D = Decimal
BOGOTA = ZoneInfo("America/Bogota")


@pytest.fixture
def phone(client: TestClient, make_user: MakeUser) -> Phone:
    return register_phone(client, make_user("collector"))


def today(clock: FakeClock) -> date:
    return clock.now.astimezone(BOGOTA).date()


def proposal(
    phone: Phone,
    client_id: uuid.UUID | str,
    at: datetime,
    dues: list[tuple[date, str]],
    notes: str = "",
) -> dict[str, Any]:
    payload = {
        "installments": [{"due_date": d.isoformat(), "amount": a} for d, a in dues],
        "notes": notes,
    }
    return event(phone, "agreement.proposed", client_id, payload, device_time=at.isoformat())


def counts(session: Session) -> tuple[int, int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(PaymentAgreement)) or 0,
        session.scalar(select(func.count()).select_from(AgreementInstallment)) or 0,
        session.scalar(select(func.count()).select_from(ReviewItem)) or 0,
    )


def reviews(session: Session) -> list[tuple[str, str]]:
    return [(r.kind, r.reason) for r in session.scalars(select(ReviewItem).order_by(ReviewItem.id))]


def test_a_proposal_is_stored_once_under_its_event_id(
    client: TestClient, session: Session, phone: Phone, make_client, clock: FakeClock
) -> None:
    c = make_client(collector=phone.user)
    day = today(clock)
    dues = [(day + timedelta(days=7), "150000.00"), (day + timedelta(days=37), "150000.50")]
    ev = proposal(phone, c.id, clock.now, dues, notes="paga los viernes")
    pay = payment(phone, c.id, "20000.00")
    assert statuses(push(client, phone, [pay, ev])) == [("applied", None), ("applied", None)]
    session.expire_all()
    agreement = session.get(PaymentAgreement, uuid.UUID(ev["event_id"]))
    assert agreement is not None
    assert (agreement.status, agreement.origin, agreement.client_id) == ("proposed", "field", c.id)
    assert agreement.event_id == agreement.id and agreement.total == D("300000.50")
    assert agreement.notes == "paga los viernes" and agreement.proposed_by == phone.user.id
    rows = session.scalars(
        select(AgreementInstallment)
        .where(AgreementInstallment.agreement_id == agreement.id)
        .order_by(AgreementInstallment.seq)
    ).all()
    assert [(r.seq, r.due_date, r.amount) for r in rows] == [
        (1, dues[0][0], D("150000.00")),
        (2, dues[1][0], D("150000.50")),
    ]
    before = counts(session)
    # The response was lost: the phone sends the same chunk again.
    again = push(client, phone, [pay, ev]).json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert counts(session) == before == (1, 2, 0)
    check_invariants(session)


def test_a_proposal_for_an_unknown_client_is_held_without_rows(
    client: TestClient, session: Session, phone: Phone, clock: FakeClock
) -> None:
    ev = proposal(phone, uuid.uuid4(), clock.now, [(today(clock) + timedelta(days=3), "1000.00")])
    assert statuses(push(client, phone, [ev])) == [("held", "client_unknown")]
    assert counts(session)[:2] == (0, 0)
    assert reviews(session) == [("held_event", "client_unknown")]
    # The proposal itself is kept with the event for the supervisor.
    raw = session.scalar(
        select(InboundEvent.raw).where(InboundEvent.event_id == uuid.UUID(ev["event_id"]))
    )
    assert raw is not None and raw["payload"]["installments"][0]["amount"] == "1000.00"


def test_closed_and_reassigned_clients_keep_the_proposal_and_a_review(
    client: TestClient,
    session: Session,
    phone: Phone,
    make_client,
    make_user: MakeUser,
    clock: FakeClock,
) -> None:
    closed = make_client(collector=phone.user, status="closed")
    someone_elses = make_client(collector=make_user("collector").user)
    dues = [(today(clock) + timedelta(days=10), "5000.00")]
    events = [
        proposal(phone, closed.id, clock.now, dues),
        proposal(phone, someone_elses.id, clock.now, dues),
    ]
    assert statuses(push(client, phone, events)) == [
        ("held", "client_closed"),
        ("held", "client_reassigned"),
    ]
    assert counts(session) == (2, 2, 2)
    assert reviews(session) == [
        ("held_event", "client_closed"),
        ("held_event", "client_reassigned"),
    ]


@pytest.mark.parametrize(
    "offsets",
    [
        [(5, "100.00"), (5, "100.00")],  # same day twice
        [(9, "100.00"), (4, "100.00")],  # out of order
        [(-3, "100.00"), (20, "100.00")],  # first due before the device's day minus the slack
        [(5, "100.00"), (4000, "100.00")],  # more than ten years ahead
    ],
    ids=["same-day", "decreasing", "in-the-past", "too-far"],
)
def test_an_invalid_schedule_is_held_with_a_stable_code_and_no_rows(
    client: TestClient,
    session: Session,
    phone: Phone,
    make_client,
    clock: FakeClock,
    offsets: list[tuple[int, str]],
) -> None:
    c = make_client(collector=phone.user)
    dues = [(today(clock) + timedelta(days=d), a) for d, a in offsets]
    ok = proposal(phone, c.id, clock.now, [(today(clock), "1.00")])  # due today: fine
    bad = proposal(phone, c.id, clock.now, dues)
    assert statuses(push(client, phone, [bad, ok])) == [
        ("held", "agreement_invalid"),
        ("applied", None),
    ]
    assert counts(session) == (1, 1, 1)
    assert reviews(session) == [("held_event", "agreement_invalid")]


def test_yesterdays_proposal_synced_today_may_start_yesterday(
    client: TestClient, session: Session, phone: Phone, make_client, clock: FakeClock
) -> None:
    """The slack is counted from the device's day, not the server's: a proposal written offline
    a week ago for an installment due five days ago (two days after it was made) is valid."""
    c = make_client(collector=phone.user)
    week_ago = clock.now - timedelta(days=7)
    ev = proposal(phone, c.id, week_ago, [(today(clock) - timedelta(days=5), "800.00")])
    assert statuses(push(client, phone, [ev])) == [("applied", None)]
    session.expire_all()
    agreement = session.get(PaymentAgreement, uuid.UUID(ev["event_id"]))
    assert agreement is not None
    assert agreement.proposed_at.astimezone(BOGOTA).date() == week_ago.astimezone(BOGOTA).date()
