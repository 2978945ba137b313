from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import OutboxRow
from mobile.services.balances import visible_balance, visible_balances
from mobile.services.recording import record_payment, void_payment
from shared.errors import NotFound
from tests.mobile.conftest import MORNING


def ack(
    db: sessionmaker[Session], event_id: str, server_seq: int | None, state: str = "acked"
) -> None:
    with db.begin() as session:
        row = session.get(OutboxRow, event_id)
        assert row is not None
        row.state, row.server_seq, row.acked_at = state, server_seq, MORNING


def test_visible_balance_worked_example(
    db: sessionmaker[Session], mirror_client: Callable[..., str]
) -> None:
    # The last pull wrote the client at server change 100 with a balance of 500,000.00.
    client = mirror_client(balance="500000.00", change_seq=100)
    other = mirror_client(balance="70000.00", change_seq=5)

    def pay(amount: int, who: str = client) -> str:
        return record_payment(
            db, client_id=who, amount=Decimal(amount), method="cash", now=MORNING
        ).event_id

    with db() as session:
        assert visible_balance(session, client) == Decimal("500000.00")
    pay(100_000)  # pending: not on the server yet               -> 400,000
    ack(db, pay(50_000), server_seq=90)  # applied before change 100: already in the balance
    ack(db, pay(20_000), server_seq=120)  # applied after the pull  -> 380,000
    void_payment(db, payment_event_id=pay(30_000), reason="error", now=MORNING)  # nets to 0
    reflected = pay(10_000)
    ack(db, reflected, server_seq=80)
    void_payment(db, payment_event_id=reflected, reason="error", now=MORNING)  # -> 390,000
    ack(db, pay(5_000), server_seq=None, state="held")  # to suspense, no seq -> 385,000
    pay(1_000, who=other)  # another client's payment does not leak -> other 69,000

    with db() as session:
        assert visible_balance(session, client) == Decimal("385000.00")
        assert visible_balances(session) == {
            client: Decimal("385000.00"),
            other: Decimal("69000.00"),
        }


def test_an_overpayment_shows_as_a_credit(
    db: sessionmaker[Session], mirror_client: Callable[..., str]
) -> None:
    client = mirror_client(balance="1000.00")
    record_payment(db, client_id=client, amount=Decimal("1500.50"), method="cash", now=MORNING)
    with db() as session:
        assert visible_balance(session, client) == Decimal("-500.50")


def test_unknown_client(db: sessionmaker[Session]) -> None:
    with db() as session, pytest.raises(NotFound) as exc:
        visible_balance(session, "5f0e3c1a-1111-4b7e-9a57-2f8a3f0d6a11")
    assert exc.value.code == "client_not_found"
