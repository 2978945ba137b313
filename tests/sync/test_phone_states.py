"""What the phone's outbox says about its events after faults, against what the server recorded
(gaps in mobile/services/outbox.py the fault suite found)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mobile.data.models import ClientMirror, OutboxRow
from mobile.services import recording
from mobile.services.balances import visible_balance
from tests.sync.case import Case
from tests.sync.rig import sync


def _states(case: Case) -> list[str]:
    with case.beto.db() as session:
        return [r.state for r in session.scalars(select(OutboxRow))]


def test_held_event_stays_held_on_the_phone_when_its_answer_was_lost(case: Case) -> None:
    case.pay(case.beto, "10.00", client=case.world.office.unknown_client)  # held: suspense
    case.beto.transport.plan(["lose_response"])
    assert not sync(case.beto, chunk=200).ok
    assert sync(case.beto, chunk=200).ok
    assert _states(case) == ["held"]


def test_a_clock_jump_does_not_purge_rows_acknowledged_a_minute_ago(case: Case) -> None:
    case.pay(case.beto, "10.00")
    assert sync(case.beto, chunk=200).ok
    case.beto.skew = timedelta(days=365)
    assert sync(case.beto, chunk=200).ok
    assert _states(case) == ["acked"]


def test_void_of_money_the_server_kept_in_suspense_leaves_the_balance_alone(case: Case) -> None:
    paid = case.pay(case.beto, "200000000000.00")  # above MAX_FIELD_PAYMENT
    assert sync(case.beto, chunk=200).ok
    recording.void_payment(
        case.beto.db, payment_event_id=paid, reason="digitado mal", now=case.beto.now()
    )
    for _ in range(2):
        assert sync(case.beto, chunk=200).ok
    client = str(case.client_of(case.beto))
    with case.beto.db() as session:
        mirrored = session.get(ClientMirror, client)
        assert mirrored is not None
        assert visible_balance(session, client) == mirrored.balance
