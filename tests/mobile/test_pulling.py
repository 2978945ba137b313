"""Applying pull pages: one transaction per page with its cursor, versions, removes, statuses."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import ClientMirror, EventStatus
from mobile.services.balances import visible_balance
from mobile.services.device import sync_state
from mobile.services.outbox import apply_push_results
from mobile.services.pulling import apply_page, checksum_mismatch, resync
from mobile.services.recording import record_payment
from sync.protocol import Change, PushResult
from tests.mobile.conftest import MORNING
from tests.mobile.pages import checksum_of, page, put, remove, status

A, B = str(uuid.uuid4()), str(uuid.uuid4())
INVOICE = {"number": "F-1", "due_date": "2026-10-01", "balance": "250000.00", "bucket": "31-60"}


def mirror(db: sessionmaker[Session]) -> dict[str, tuple[int, int, Decimal, str]]:
    with db() as session:
        rows = session.scalars(select(ClientMirror)).all()
        return {r.id: (r.version, r.change_seq, r.balance, r.name) for r in rows}


def cursor(db: sessionmaker[Session]) -> str:
    with db() as session:
        return sync_state(session).cursor


def test_puts_are_applied_only_when_newer_and_keep_their_seq(db: sessionmaker[Session]) -> None:
    applied = apply_page(db, page(put(A, 3, 10, "500.00"), put(B, 1, 11)), now=MORNING)
    assert (applied.puts, applied.skipped) == (2, 0)
    assert cursor(db) == "c1"
    applied = apply_page(
        db,
        page(put(A, 2, 12, "1.00", name="viejo"), put(B, 4, 13, "7.50", name="nuevo"), cursor="c2"),
        now=MORNING,
    )
    assert (applied.puts, applied.skipped) == (1, 1)
    assert mirror(db) == {
        A: (3, 10, Decimal("500.00"), "Cliente C-1"),
        B: (4, 13, Decimal("7.50"), "nuevo"),
    }
    assert cursor(db) == "c2"


def test_a_put_carries_everything_the_phone_shows_offline(db: sessionmaker[Session]) -> None:
    change = put(
        A, 1, 5, "250000.00", code="K-9", name="Droguería Sol", segment="tienda",
        address="Cra 7 # 12-30", city="Bogotá", lat=4.6, lon=-74.07, phones=("3001234567",),
        channels=("visit", "call"), status="closed",
        invoices=[INVOICE],
        promises=[{"amount": "50000.00", "due_date": "2026-11-30", "status": "pending"}],
        visits=[{"day": "2026-11-20", "outcome": "contacted"}],
    )  # fmt: skip
    apply_page(db, page(change), now=MORNING)
    with db() as session:
        row = session.get(ClientMirror, A)
        assert row is not None
        got = (row.code, row.name, row.segment, row.address, row.city, row.status, row.lat,
               row.lon, row.phones, row.channels, row.balance)  # fmt: skip
        assert got == ("K-9", "Droguería Sol", "tienda", "Cra 7 # 12-30", "Bogotá", "closed", 4.6,
                       -74.07, ["3001234567"], ["visit", "call"], Decimal("250000.00"))  # fmt: skip
        assert row.open_invoices == [INVOICE]
        assert row.promises == [
            {"amount": "50000.00", "due_date": "2026-11-30", "status": "pending"}
        ]
        assert row.visits == [{"day": "2026-11-20", "outcome": "contacted"}]


def test_remove_then_put_again_in_one_page(db: sessionmaker[Session]) -> None:
    apply_page(db, page(put(A, 1, 1), put(B, 1, 2)), now=MORNING)
    applied = apply_page(db, page(remove(A, 3), remove(B, 4), put(B, 2, 5, "9.00")), now=MORNING)
    assert (applied.removes, applied.puts) == (2, 1)
    assert mirror(db) == {B: (2, 5, Decimal("9.00"), "Cliente C-1")}


def test_event_statuses_keep_the_latest_word(db: sessionmaker[Session]) -> None:
    event = str(uuid.uuid4())
    apply_page(db, page(status(event, 8, "held", "cliente cerrado")), now=MORNING)
    apply_page(db, page(status(event, 6, "applied")), now=MORNING)  # older: ignored
    with db() as session:
        row = session.get(EventStatus, event)
        assert row is not None
        assert (row.status, row.note, row.seq) == ("held", "cliente cerrado", 8)
    gone = Change(seq=9, entity="event_status", id=event, op="remove")
    apply_page(db, page(gone), now=MORNING)
    with db() as session:
        assert session.get(EventStatus, event) is None


def test_a_bad_change_leaves_the_page_and_its_cursor_unapplied(db: sessionmaker[Session]) -> None:
    apply_page(db, page(put(A, 1, 1)), now=MORNING)
    broken = Change(seq=3, entity="client", id=B, op="put", version=1, data={"name": "sin código"})
    with pytest.raises(ValidationError):
        apply_page(db, page(put(A, 2, 2, "1.00"), broken, cursor="c9"), now=MORNING)
    assert mirror(db) == {A: (1, 1, Decimal("100000.00"), "Cliente C-1")}
    assert cursor(db) == "c1"


def test_checksum_compares_count_sum_and_versions(db: sessionmaker[Session]) -> None:
    apply_page(db, page(put(A, 3, 1, "10.00"), put(B, 1, 2, "5.50")), now=MORNING)
    with db() as session:
        assert checksum_mismatch(session, checksum_of({A: (3, "10.00"), B: (1, "5.50")})) is None
        assert "clients" in (checksum_mismatch(session, checksum_of({A: (3, "10.00")})) or "")
        wrong_sum = checksum_of({A: (3, "10.00"), B: (1, "5.51")})
        assert "balance" in (checksum_mismatch(session, wrong_sum) or "")
        wrong_version = checksum_of({A: (4, "10.00"), B: (1, "5.50")})
        assert "versions" in (checksum_mismatch(session, wrong_version) or "")
    apply_page(db, page(remove(B, 3), put("not-a-uuid", 1, 4, "5.50")), now=MORNING)
    with db() as session:
        bad_id = checksum_of({A: (3, "10.00"), B: (1, "5.50")})
        assert "UUID" in (checksum_mismatch(session, bad_id) or "")


def test_resync_clears_mirror_and_cursor_never_the_outbox(db: sessionmaker[Session]) -> None:
    apply_page(db, page(put(A, 1, 1)), now=MORNING)
    record_payment(db, client_id=A, amount=Decimal(1000), method="cash", now=MORNING)
    resync(db)
    assert mirror(db) == {}
    assert cursor(db) == ""
    with db() as session:
        assert sync_state(session).next_device_seq == 2
    from tests.mobile.test_outbox import seqs

    assert seqs(db) == [1]


def test_visible_balance_follows_change_seq(db: sessionmaker[Session]) -> None:
    apply_page(db, page(put(A, 1, 10, "100000.00")), now=MORNING)
    pay = record_payment(db, client_id=A, amount=Decimal(30000), method="cash", now=MORNING)
    with db() as session:
        assert visible_balance(session, A) == Decimal("70000.00")
    apply_push_results(
        db, [PushResult(event_id=uuid.UUID(pay.event_id), status="applied", server_seq=11)],
        now=MORNING,
    )  # fmt: skip
    with db() as session:
        assert visible_balance(session, A) == Decimal("70000.00")  # acked, not yet pulled
    apply_page(db, page(put(A, 2, 12, "70000.00")), now=MORNING)  # the server's balance now
    with db() as session:
        assert visible_balance(session, A) == Decimal("70000.00")
