"""The sync that needs no tap, seen from the app's state: a background cycle updates the offline
badge, the pending count and Sincronización without a message bar and without a full redraw;
every saved field action asks for a sync; and, against the real server, work recorded while it
is down reaches it by itself once it is back."""

from __future__ import annotations

import queue
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.main import make_background
from mobile.settings import MobileSettings
from mobile.state.app import AppState, SyncResult
from server.db.models import InboundEvent
from tests.mobile.live import enroll
from tests.mobile.test_state_app import FakeEnroller, clock
from tests.mobile.test_state_clients import add_client
from tests.server.sync_helpers import MakeUser


def watched(db: sessionmaker[Session]) -> tuple[AppState, list[str]]:
    calls: list[str] = []
    app = AppState(db=db, clock=clock, enroller=FakeEnroller(), auto_sync_minutes=5)
    app.on_change = lambda: calls.append("full")
    app.on_status = lambda: calls.append("status")
    app.start()
    calls.clear()
    return app, calls


def test_a_background_cycle_updates_status_only(db: sessionmaker[Session]) -> None:
    app, calls = watched(db)
    assert app.auto_status() == "Se sincroniza sola cada 5 min y después de cada registro"
    app.background_started()
    assert app.auto_running and app.auto_status() == "Sincronizando en segundo plano…"
    app.background_done(SyncResult(ok=False, problem="offline"))
    assert (app.online, app.auto_running, app.message) == (False, False, "")
    assert app.auto_status() == "Sin conexión: se reintenta sola, no hace falta tocar nada"
    app.background_done(SyncResult(ok=False, problem="busy"))  # a tap's sync: no verdict
    assert app.online is False
    app.background_done(SyncResult(ok=True, sent=2))
    assert (app.online, app.auto_problem, app.message) == (True, "", "")
    assert app.auto_at == clock()
    assert set(calls) == {"status"}  # never a full redraw from the background thread


def test_every_saved_field_action_asks_for_a_sync(db: sessionmaker[Session]) -> None:
    client = add_client(db, "Tienda Mía", "100000")
    app, _ = watched(db)
    asked: list[int] = []
    app.on_recorded = lambda: asked.append(app.pending)
    app.open_client(client)
    app.start_visit()
    app.visit.outcome = "contacted"
    assert app.save_visit()
    app.start_promise()
    app.promise.amount, app.promise.due = "20.000", "27/11/2026"
    assert app.save_promise()
    app.start_payment()
    app.payment.amount = "10.000"
    assert app.review_payment() and app.confirm_payment()
    detail = app.detail()
    assert detail is not None
    assert app.void(detail.payments_today[0].event_id, "error de digitación")
    assert asked == [1, 2, 3, 4]  # after each write is committed, never before
    app.start_visit()
    assert not app.save_visit()  # nothing saved, nothing asked
    assert asked == [1, 2, 3, 4]


def test_work_recorded_while_the_server_is_down_arrives_by_itself(
    client: TestClient, session: Session, make_user: MakeUser, tmp_path: Path
) -> None:
    login = make_user("collector")
    phone = enroll(client, login, tmp_path / "phone.db")
    down = [True]

    def network(request: httpx.Request) -> httpx.Response:
        if down[0]:
            raise httpx.ConnectError("connection refused", request=request)
        return client._transport.handle_request(request)

    app, _ = watched(phone.db)
    reports: queue.Queue[bool | None] = queue.Queue()
    app.on_status = lambda: reports.put(None if app.auto_running else app.online)
    settings = MobileSettings(
        sync_interval_s=3600, sync_debounce_s=0, sync_backoff_base_s=0.01, sync_backoff_cap_s=0.05
    )
    worker = make_background(phone.db, settings, app, httpx.MockTransport(network))
    worker.schedule.first_s = 3600  # no cycle on opening: the payment below asks for one
    app.on_recorded = worker.request
    worker.start()
    try:
        shop = add_client(phone.db, "Tienda Mía", "100000")
        app.reload()
        app.open_client(shop)
        app.start_payment()
        app.payment.amount = "25.000"
        assert app.review_payment() and app.confirm_payment()
        while reports.get(timeout=30) is not False:  # the first cycle finds no server
            pass
        assert app.pending == 1 and app.auto_problem == "offline"
        down[0] = False  # back in coverage; nobody taps anything
        while reports.get(timeout=30) is not True:
            pass
    finally:
        worker.stop()
    assert app.pending == 0 and app.online is True and app.auto_problem == ""
    assert app.info is not None and app.info.last_sync_at is not None
    session.expire_all()
    events = session.scalars(select(InboundEvent.event_id)).all()
    assert [str(e) for e in events] == [app.events[0].event_id]  # once, however many tries
