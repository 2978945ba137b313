from __future__ import annotations

import json
import uuid
from datetime import UTC, date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.migrate import open_database
from mobile.data.models import OutboxRow, SyncState
from mobile.services.recording import (
    receipt_number,
    record_payment,
    record_promise,
    record_visit,
    void_payment,
)
from shared.errors import Conflict, InvalidInput, NotFound
from tests.mobile.conftest import MORNING, new_device

CLIENT = "5f0e3c1a-1111-4b7e-9a57-2f8a3f0d6a11"


def rows(db: sessionmaker[Session]) -> list[OutboxRow]:
    with db() as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.device_seq)))


def test_receipt_number_format() -> None:
    assert receipt_number("K7Q", 412) == "K7Q-000412"
    assert receipt_number("K7Q", 1) == "K7Q-000001"
    assert receipt_number("K7Q", 1_234_567) == "K7Q-1234567"  # grows, never truncates


def test_every_action_takes_the_next_seq_and_payments_number_their_receipt(
    db: sessionmaker[Session],
) -> None:
    visit = record_visit(db, client_id=CLIENT, outcome="payment", now=MORNING, lat=4.6, lon=-74.1)
    first = record_payment(
        db, client_id=CLIENT, amount=Decimal("250000"), method="cash", now=MORNING
    )
    promise = record_promise(
        db, client_id=CLIENT, amount=Decimal("100000"), due_date=date(2026, 11, 30), now=MORNING
    )
    second = record_payment(
        db, client_id=CLIENT, amount=Decimal("50000.5"), method="transfer", now=MORNING,
        reference="TRX-9", invoice_numbers=["F-1", "F-2"], visit_event_id=visit.event_id,
    )  # fmt: skip
    assert [visit.device_seq, first.device_seq, promise.device_seq, second.device_seq] == [
        1,
        2,
        3,
        4,
    ]
    assert (first.receipt_no, second.receipt_no) == ("K7Q-000002", "K7Q-000004")
    assert second.amount == Decimal("50000.50")

    stored = rows(db)
    assert [r.type for r in stored] == [
        "visit.recorded", "payment.collected", "promise.made", "payment.collected",
    ]  # fmt: skip
    assert all(r.state == "pending" and r.attempts == 0 for r in stored)
    assert stored[1].device_time == "2026-11-23T10:21:07-05:00"
    # Canonical JSON: sorted keys, no spaces, money as a two-decimal string, no null fields.
    assert stored[1].payload == '{"amount":"250000.00","method":"cash","receipt_no":"K7Q-000002"}'
    assert json.loads(stored[3].payload) == {
        "amount": "50000.50", "method": "transfer", "receipt_no": "K7Q-000004",
        "reference": "TRX-9", "invoice_numbers": ["F-1", "F-2"], "visit_event_id": visit.event_id,
    }  # fmt: skip
    with db() as session:
        assert session.get(SyncState, 1).next_device_seq == 5  # type: ignore[union-attr]


def test_two_devices_number_independently_and_never_collide(tmp_path: Path) -> None:
    phone_a = new_device(tmp_path / "a.db", code="K7Q")
    phone_b = new_device(tmp_path / "b.db", code="M3X")
    receipts = set()
    for _ in range(3):
        for phone in (phone_a, phone_b):
            pay = record_payment(
                phone, client_id=CLIENT, amount=Decimal(1000), method="cash", now=MORNING
            )
            receipts.add(pay.receipt_no)
    assert receipts == {f"{code}-00000{n}" for code in ("K7Q", "M3X") for n in (1, 2, 3)}


def test_recording_refuses_bad_input_without_using_a_seq(db: sessionmaker[Session]) -> None:
    with pytest.raises(InvalidInput) as zero:
        record_payment(db, client_id=CLIENT, amount=Decimal(0), method="cash", now=MORNING)
    assert zero.value.code == "invalid_event"
    with pytest.raises(InvalidInput) as method:
        record_payment(db, client_id=CLIENT, amount=Decimal(1), method="bitcoin", now=MORNING)  # type: ignore[arg-type]
    assert method.value.details == {"fields": ["method"]}
    with pytest.raises(InvalidInput) as client:
        record_visit(db, client_id="not-a-uuid", outcome="contacted", now=MORNING)
    assert client.value.code == "invalid_client_id"
    with pytest.raises(InvalidInput) as naive:
        record_visit(db, client_id=CLIENT, outcome="contacted", now=MORNING.replace(tzinfo=None))
    assert naive.value.code == "naive_datetime"
    assert rows(db) == []
    assert record_visit(db, client_id=CLIENT, outcome="contacted", now=MORNING).device_seq == 1


def test_an_unregistered_phone_records_nothing(tmp_path: Path) -> None:
    db = open_database(tmp_path / "blank.db")
    with pytest.raises(Conflict) as exc:
        record_payment(db, client_id=CLIENT, amount=Decimal(1), method="cash", now=MORNING)
    assert exc.value.code == "device_not_registered"


def test_void_on_the_same_business_day_is_a_new_event(db: sessionmaker[Session]) -> None:
    pay = record_payment(db, client_id=CLIENT, amount=Decimal(30000), method="cash", now=MORNING)
    # 23:59 Bogotá is 04:59 UTC the next day: still the same business day.
    late = MORNING.replace(hour=23, minute=59)
    void = void_payment(db, payment_event_id=pay.event_id, reason=" billete falso ", now=late)
    assert void.device_seq == 2
    payment_row, void_row = rows(db)
    assert payment_row.payload.startswith('{"amount":"30000.00"')  # untouched
    assert void_row.type == "payment.voided"
    assert (void_row.ref_event_id, void_row.amount) == (pay.event_id, Decimal("30000.00"))
    assert json.loads(void_row.payload) == {
        "payment_event_id": pay.event_id, "reason": "billete falso",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"reason": "  "}, InvalidInput, "void_reason_required"),
        (
            {"now": MORNING.replace(hour=0, minute=0) + timedelta(days=1)},
            Conflict,
            "void_window_closed",
        ),
        ({"payment_event_id": str(uuid.uuid4())}, NotFound, "payment_not_found"),
    ],
)
def test_void_refusals(db: sessionmaker[Session], kwargs: dict, error: type, code: str) -> None:  # type: ignore[type-arg]
    pay = record_payment(db, client_id=CLIENT, amount=Decimal(30000), method="cash", now=MORNING)
    args = {"payment_event_id": pay.event_id, "reason": "error de digitación", "now": MORNING}
    with pytest.raises(error) as exc:
        void_payment(db, **(args | kwargs))
    assert exc.value.code == code
    assert len(rows(db)) == 1


def test_void_twice_or_a_visit_is_refused(db: sessionmaker[Session]) -> None:
    pay = record_payment(db, client_id=CLIENT, amount=Decimal(100), method="cash", now=MORNING)
    visit = record_visit(db, client_id=CLIENT, outcome="refused", now=MORNING)
    void_payment(db, payment_event_id=pay.event_id, reason="duplicado", now=MORNING)
    with pytest.raises(Conflict) as twice:
        void_payment(db, payment_event_id=pay.event_id, reason="otra vez", now=MORNING)
    assert twice.value.code == "payment_already_voided"
    with pytest.raises(NotFound):
        void_payment(db, payment_event_id=visit.event_id, reason="no", now=MORNING)


def test_business_day_uses_the_business_timezone_not_the_phone_offset(
    db: sessionmaker[Session],
) -> None:
    # Recorded 20:00 Bogotá; the phone's clock later reports UTC: 02:00 UTC is still that day.
    pay = record_payment(
        db, client_id=CLIENT, amount=Decimal(100), method="cash", now=MORNING.replace(hour=20)
    )
    utc_next = MORNING.replace(hour=21).astimezone(UTC)
    assert (utc_next.day, utc_next.hour) == (24, 2)
    void_payment(db, payment_event_id=pay.event_id, reason="error", now=utc_next)
