"""The app's actions end to end without Flet: first run, Hoy, a payment with its confirmation
and receipt, a void, a visit and a promise, sync feedback, and nothing lost on reopening."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.adapters.prefs import load_lang, save_lang
from mobile.data.migrate import open_database
from mobile.data.models import OutboxRow
from mobile.state.app import (
    AppState,
    EnrollError,
    Enrollment,
    SyncPhase,
    SyncResult,
    SyncRunner,
)
from shared.geo import Fix, Point
from tests.mobile.conftest import MORNING
from tests.mobile.test_state_clients import add_client


class FakeEnroller:
    def __init__(self, fail: EnrollError | None = None) -> None:
        self.fail = fail
        self.calls: list[tuple[str, str, str]] = []

    def enroll(
        self, server_url: str, username: str, password: str, *, device_name: str, nonce: str
    ) -> Enrollment:
        self.calls.append((server_url, username, nonce))
        if self.fail is not None:
            raise self.fail
        return Enrollment("0b9c7c5e-5d1f-4b7e-9a57-2f8a3f0d6a11", "K7Q", "tok", "epoch-1")


def clock() -> datetime:
    return MORNING


def make_app(
    db: sessionmaker[Session],
    enroller: FakeEnroller | None = None,
    syncer: SyncRunner | None = None,
) -> AppState:
    app = AppState(db=db, clock=clock, enroller=enroller or FakeEnroller(), syncer=syncer)
    app.start()
    return app


@pytest.fixture
def fresh(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(tmp_path / "fresh.db")


def test_first_run_validates_then_registers_and_syncs(fresh: sessionmaker[Session]) -> None:
    rounds: list[int] = []

    seen: list[str] = []

    def syncer(progress: Callable[[SyncPhase, int], None]) -> SyncResult:
        rounds.append(1)
        for count in (0, 12, 12):  # what the collector reads under the progress bar
            progress("pull", count)
            seen.append(app.sync_status())
        return SyncResult(ok=True, sent=0, received=12)

    enroller = FakeEnroller()
    app = make_app(fresh, enroller, syncer)
    assert app.screen == "setup"
    assert not app.setup("ftp://x", "gestor1", "pw")
    assert app.setup_error == "Dirección inválida (http://… o https://…)"
    assert not app.setup("http://10.0.0.2:8000", "gestor1", "")
    app.busy = True  # a registration already under way (a double tap)
    assert not app.setup("http://10.0.0.2:8000", "gestor1", "secret")
    app.busy = False
    assert enroller.calls == []

    assert app.setup("http://10.0.0.2:8000/ ", " gestor1 ", "secret")
    assert enroller.calls[0][:2] == ("http://10.0.0.2:8000", "gestor1")
    assert app.screen == "today" and rounds == [1]
    assert app.message == "Enviados 0, recibidos 12"
    assert seen == ["Recibiendo la cartera… 0"] + ["Recibiendo la cartera… 12"] * 2
    assert app.sync_phase is None and app.sync_status() == "Sincronizando…"
    assert app.info is not None and app.info.device_code == "K7Q"
    assert make_app(fresh).screen == "today"  # reopened: registered stays registered


def test_first_run_error_messages_keep_the_same_install_nonce(
    fresh: sessionmaker[Session],
) -> None:
    enroller = FakeEnroller(EnrollError("error.login"))
    app = make_app(fresh, enroller)
    assert not app.setup("http://srv", "gestor1", "bad")
    assert app.setup_error == "Usuario o contraseña incorrectos"
    enroller.fail = EnrollError("error.server", "connection refused")
    assert not app.setup("http://srv", "gestor1", "bad")
    assert app.setup_error == "No se pudo conectar con el servidor: connection refused"
    assert app.online is False
    assert enroller.calls[0][2] == enroller.calls[1][2]
    assert app.screen == "setup"


def test_payment_review_confirm_receipt_and_void(db: sessionmaker[Session]) -> None:
    client = add_client(db, "Tienda Mía", "100000", overdue_days=(40,))
    app = make_app(db)
    assert app.screen == "today"
    assert [r.name for r in app.visible_rows()] == ["Tienda Mía"]
    app.open_client(client)
    app.start_payment()
    app.payment.amount = "150,000"  # not Spanish: refused, nothing written
    assert not app.review_payment()
    assert app.screen == "payment" and app.payment.errors["amount"][0] == "error.amount"

    app.payment.amount, app.payment.method = "40.000", "cash"
    assert app.review_payment() and app.screen == "confirm"
    with db() as session:
        assert session.scalars(select(OutboxRow)).all() == []  # only the confirmation writes
    app.back()
    assert app.screen == "payment" and app.payment.amount == "40.000"
    assert app.review_payment()
    assert app.confirm_payment()
    assert app.screen == "receipt" and app.receipt is not None
    assert (app.receipt.receipt_no, app.receipt.amount, app.receipt.collector) == (
        "K7Q-000001",
        Decimal("40000.00"),
        "gestor1",
    )
    assert app.pending == 1
    assert app.visible_rows()[0].balance == Decimal("60000.00")

    detail = app.detail()
    assert detail is not None
    (paid,) = detail.payments_today
    assert not app.void(paid.event_id, "   ")  # a reason is required
    assert app.message == "indique el motivo de la anulación"
    assert app.void(paid.event_id, "billete falso")
    assert app.message == "Pago anulado"
    assert app.visible_rows()[0].balance == Decimal("100000.00")


def test_visit_and_promise_survive_reopening(db: sessionmaker[Session]) -> None:
    client = add_client(db, "Tienda Mía", "100000", lat=4.6097, lon=-74.0817)
    app = make_app(db)
    app.open_client(client)
    app.set_position(Fix(Point(4.6098, -74.0817), 30))
    app.start_visit()
    app.set_position(Fix(Point(4.6097, -74.0817), 8))
    assert app.visit.fix == Fix(Point(4.6097, -74.0817), 8)
    assert not app.save_visit()  # no outcome chosen
    app.visit.outcome = "promise"
    assert app.save_visit()
    assert app.screen == "client" and app.message == "Visita guardada"

    app.start_promise()
    app.promise.amount, app.promise.due = "20.000", "01/01/2020"
    assert not app.save_promise()
    app.promise.due = "27/11/2026"
    assert app.save_promise() and app.message == "Promesa guardada"

    reopened = make_app(db)
    reopened.open_client(client)
    detail = reopened.detail()
    assert detail is not None
    assert [v.outcome for v in detail.visits] == ["promise"]
    assert [p.amount for p in detail.promises] == [Decimal("20000.00")]
    assert reopened.pending == 2
    with db() as session:
        visit = session.scalars(select(OutboxRow).where(OutboxRow.type == "visit.recorded")).one()
    assert '"accuracy_m":8.0' in visit.payload
    week = reopened.week()
    assert (week.visits, week.effective_contacts, week.promises) == (1, 1, 1)
    overview = reopened.sync_view()
    assert overview.pending == 2 and overview.rows[0].client_name == "Tienda Mía"


def test_sync_without_a_runner_or_with_a_failure_says_so(db: sessionmaker[Session]) -> None:
    app = make_app(db)
    assert app.sync() is None
    assert app.message == "La sincronización aún no está disponible en esta versión"
    failing = make_app(db, syncer=lambda _: SyncResult(ok=False, error="sin señal"))
    failing.sync()
    assert failing.message == "No se pudo sincronizar: sin señal" and failing.message_is_error
    assert failing.online is False and not failing.busy
    offline = make_app(db, syncer=lambda _: SyncResult(ok=False, error="x", problem="offline"))
    offline.sync()
    assert offline.message.startswith("Sin conexión con el servidor. Todo queda guardado")
    assert offline.online is False
    refused = make_app(db, syncer=lambda _: SyncResult(ok=False, problem="reauth"))
    refused.sync()
    assert refused.online is True and "registre de nuevo" in refused.message


def test_language_switch_changes_messages(db: sessionmaker[Session]) -> None:
    app = make_app(db)
    app.set_lang("en")
    app.sync()
    assert app.message == "Sync is not available in this version yet"


def test_the_language_choice_survives_reopening(db: sessionmaker[Session], tmp_path: Path) -> None:
    folder = tmp_path / "prefs"
    assert load_lang(folder) == "es"  # nothing saved yet
    app = AppState(db=db, clock=clock, enroller=FakeEnroller(), on_lang=partial(save_lang, folder))
    app.set_lang("en")
    assert load_lang(folder) == "en"
    (folder / "preferences.json").write_text("{not json", encoding="utf-8")
    assert load_lang(folder) == "es"  # a damaged file falls back, never crashes the app


def test_a_second_tap_on_save_or_confirm_records_nothing(db: sessionmaker[Session]) -> None:
    client = add_client(db, "Tienda Mía", "100000")
    app = make_app(db)
    app.open_client(client)
    app.start_visit()
    app.visit.outcome = "contacted"
    assert app.save_visit()
    assert not app.save_visit()  # the same button tapped again, handled after the first
    app.start_payment()
    app.payment.amount = "10.000"
    assert app.review_payment()
    assert app.confirm_payment()
    assert not app.confirm_payment()
    with db() as session:
        types = sorted(session.scalars(select(OutboxRow.type)).all())
    assert types == ["payment.collected", "visit.recorded"]
