"""Cash in hand and its handover on the phone: which payments are cash in hand (cash only, not
voided, not handed over), the handover form's Spanish errors, `cash.handed_over` (NO_CLIENT)
through the outbox after its payments, the server's later word (confirmed / rejected, from a
pull) on the handover, a rejected handover's payments back in hand, voiding a handed-over
payment refused, and the 30-day purge never taking cash still in hand."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import OutboxRow
from mobile.services.cash import load_cash_in_hand, record_handover
from mobile.services.outbox import purge_acked
from mobile.services.recording import record_payment, void_payment
from mobile.services.syncing import SyncOptions, sync_once
from mobile.state.app import AppState
from mobile.state.i18n import Texts
from mobile.ui.screens.collections import error_text
from shared.errors import Conflict, InvalidInput
from sync.protocol import NO_CLIENT, CashHandedOver, PaymentMethod
from tests.mobile.conftest import MORNING
from tests.mobile.fake_server import FakeServer
from tests.mobile.pages import page, status
from tests.mobile.test_state_app import make_app
from tests.mobile.test_state_clients import add_client

D = Decimal
ES = Texts("es")
YESTERDAY = MORNING - timedelta(days=1, hours=2)


@pytest.fixture
def app(db: sessionmaker[Session]) -> AppState:
    return make_app(db)


def pay(db: sessionmaker[Session], client_id: str, amount: str,
        method: PaymentMethod = "cash", at: datetime = MORNING) -> str:  # fmt: skip
    return record_payment(
        db,
        client_id=client_id,
        amount=D(amount),
        method=method,
        now=at,
    ).event_id


def handovers(db: sessionmaker[Session]) -> list[OutboxRow]:
    with db() as session:
        query = select(OutboxRow).where(OutboxRow.type == "cash.handed_over")
        return list(session.scalars(query.order_by(OutboxRow.device_seq)))


def test_cash_in_hand_is_the_cash_payments_not_voided_nor_handed_over(
    app: AppState, db: sessionmaker[Session]
) -> None:
    shop = add_client(db, "Tienda Mía", "500000")
    old = pay(db, shop, "20000", at=YESTERDAY)
    pay(db, shop, "15000", method="transfer")  # not cash: the bank has it already
    voided = pay(db, shop, "7000")
    void_payment(db, payment_event_id=voided, reason="billete falso", now=MORNING)
    today = pay(db, shop, "30000.50")
    app.reload()
    view = app.cash()
    assert [line.event_id for line in view.lines] == [old, today]
    assert view.total == D("50000.50") and view.oldest_days == 1
    assert [line.client_name for line in view.lines] == ["Tienda Mía"] * 2
    assert view.lines[0].receipt_no == "K7Q-000001"


def test_the_handover_form_and_the_event_it_queues(
    app: AppState, db: sessionmaker[Session]
) -> None:
    shop = add_client(db, "Tienda Mía", "500000")
    first, second = pay(db, shop, "20000", at=YESTERDAY), pay(db, shop, "30000")
    app.reload()
    app.go("cash")
    app.start_handover()
    assert app.screen == "handover"
    form = app.handover
    assert (form.day, form.selected) == ("23/11/2026", [first, second])  # all by default

    form.method, form.day = "bank_deposit", "24/11/2026"
    assert not app.save_handover()
    assert error_text(ES, form.errors, "reference") == "Escriba la referencia de la consignación"
    assert error_text(ES, form.errors, "day") == "La fecha no puede ser futura"
    form.selected.clear()
    form.reference, form.day = "CONS-778812", "23/11/2026"
    assert not app.save_handover()
    assert error_text(ES, form.errors, "payments") == "Elija al menos un pago"
    form.selected.append(second)
    assert app.save_handover()
    assert not app.save_handover()  # a second tap records nothing
    assert (app.screen, app.message) == ("cash", "Entrega registrada: el supervisor la confirma")

    (row,) = handovers(db)
    payload = CashHandedOver.model_validate_json(row.payload)
    assert (row.client_id, row.amount, row.state) == (str(NO_CLIENT), D("30000.00"), "pending")
    assert (payload.method, payload.bank_reference, payload.amount) == (
        "bank_deposit", "CONS-778812", D("30000.00")
    )  # fmt: skip
    assert [str(i) for i in payload.payment_event_ids] == [second]
    view = app.cash()
    assert [line.event_id for line in view.lines] == [first]  # the rest stays in hand
    (made,) = view.handovers
    assert (made.amount, made.payments, made.state, made.decision) == (
        D("30000.00"), 1, "pending", ""
    )  # fmt: skip
    assert "Entrega de efectivo" in [
        ES(f"type.{r.type}") for r in app.sync_view().rows
    ]  # fmt: skip
    assert "Efectivo en mano" in [r.client_name for r in app.sync_view().rows]


def test_the_service_refuses_what_is_not_cash_in_hand(db: sessionmaker[Session]) -> None:
    shop = add_client(db, "Tienda Mía", "500000")
    cash, transfer = pay(db, shop, "20000"), pay(db, shop, "9000", method="transfer")
    for ids, method, reference, code in (
        ([transfer], "office", "", "handover_payment_not_in_hand"),
        ([str(uuid.uuid4())], "office", "", "handover_payment_not_in_hand"),
        ([], "office", "", "handover_no_payments"),
        ([cash], "bank_deposit", "  ", "bank_reference_required"),
    ):
        with pytest.raises(InvalidInput) as refused:
            record_handover(
                db,
                method=method,  # type: ignore[arg-type]
                bank_reference=reference,
                deposited_on=MORNING.date(),
                payment_event_ids=ids,
                now=MORNING,
            )
        assert refused.value.code == code
    assert handovers(db) == []
    record_handover(db, method="office", deposited_on=MORNING.date(), payment_event_ids=[cash],
                    now=MORNING)  # fmt: skip
    with pytest.raises(InvalidInput) as twice:
        record_handover(db, method="office", deposited_on=MORNING.date(),
                        payment_event_ids=[cash], now=MORNING)  # fmt: skip
    assert twice.value.code == "handover_payment_not_in_hand"
    with pytest.raises(Conflict) as void:
        void_payment(db, payment_event_id=cash, reason="error", now=MORNING)
    assert void.value.code == "payment_handed_over"


def test_synced_after_its_payments_then_confirmed_or_rejected_by_the_server(
    app: AppState, db: sessionmaker[Session]
) -> None:
    """Against the in-memory server: the handover goes after its payments (device_seq order);
    a later pull says `rejected` for one handover (its payments are cash in hand again, and go
    in a new handover) and `confirmed` for the new one."""
    shop = add_client(db, "Tienda Mía", "500000")
    a, b = pay(db, shop, "20000"), pay(db, shop, "30000")
    first = record_handover(db, method="office", deposited_on=MORNING.date(),
                            payment_event_ids=[a, b], now=MORNING).event_id  # fmt: skip
    server = FakeServer()
    report = sync_once(db, server, now=lambda: MORNING, options=SyncOptions())
    assert report.ok and server.pushes == [[1, 2, 3]]
    app.reload()
    assert app.cash().lines == () and app.cash().handovers[0].state == "acked"

    note = "faltan $ 10.000 en la entrega"
    server.pages[server.pulls[-1] or "c0"] = page(status(first, 40, "rejected", note), cursor="c1")
    assert sync_once(db, server, now=lambda: MORNING, options=SyncOptions()).ok
    app.reload()
    view = app.cash()
    assert [line.event_id for line in view.lines] == [a, b] and view.total == D("50000.00")
    (rejected,) = view.handovers
    assert (rejected.decision, rejected.note) == ("rejected", note)
    assert ES("decision.rejected", note=note).startswith("Rechazada: faltan $ 10.000")

    second = record_handover(db, method="office", deposited_on=MORNING.date(),
                             payment_event_ids=[a, b], now=MORNING).event_id  # fmt: skip
    server.pages["c1"] = page(status(second, 41, "confirmed"), cursor="c2")
    assert sync_once(db, server, now=lambda: MORNING, options=SyncOptions()).ok
    app.reload()
    assert app.cash().lines == ()
    assert [(h.event_id, h.decision) for h in app.cash().handovers] == [
        (second, "confirmed"), (first, "rejected")
    ]  # fmt: skip


def test_the_30_day_purge_keeps_cash_still_in_hand(db: sessionmaker[Session]) -> None:
    shop = add_client(db, "Tienda Mía", "500000")
    held_cash, handed = pay(db, shop, "20000"), pay(db, shop, "30000")
    transfer = pay(db, shop, "5000", method="transfer")
    record_handover(db, method="office", deposited_on=MORNING.date(), payment_event_ids=[handed],
                    now=MORNING)  # fmt: skip
    with db.begin() as session:  # all four acknowledged 31 days ago
        for row in session.scalars(select(OutboxRow)):
            row.state, row.acked_at, row.server_seq = "acked", MORNING - timedelta(days=31), 1
    assert purge_acked(db, now=MORNING) == 3
    with db() as session:
        assert list(session.scalars(select(OutboxRow.event_id))) == [held_cash]
    assert [p.event_id for p in load_cash_in_hand(db)] == [held_cash]  # still in hand
    assert transfer not in {p.event_id for p in load_cash_in_hand(db)}
