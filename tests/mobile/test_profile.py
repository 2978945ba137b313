"""The collector's full name on receipts: asked at registration (`GET /v1/me` with the new device
token), asked again after a sync when that answer was lost, then kept offline."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from mobile.adapters.enrollment import HttpEnroller
from mobile.main import make_syncer
from mobile.net.client import Me, MeUser, SyncClient
from mobile.net.outcomes import Failure, Ok, Outcome
from mobile.services.device import register_device
from mobile.services.profile import known_full_name, remember_full_name
from mobile.settings import MobileSettings
from mobile.state.app import AppState, SyncPhase
from server.db.models import User
from tests.mobile.conftest import blank_database
from tests.mobile.test_state_app import FakeEnroller, clock
from tests.mobile.test_state_clients import add_client
from tests.server.conftest import Login
from tests.server.sync_helpers import MakeUser


def no_progress(phase: SyncPhase, count: int) -> None:
    pass


def rename(session: Session, login: Login, full_name: str) -> None:
    user = session.get(User, login.user.id)
    assert user is not None
    user.full_name = full_name
    session.flush()


def test_registration_keeps_the_full_name_the_server_gives(
    client: TestClient, session: Session, make_user: MakeUser, tmp_path: Path
) -> None:
    login = make_user("collector")
    rename(session, login, "María José Peña Ruiz")
    enroller = HttpEnroller(transport=client._transport)
    enrollment = enroller.enroll(
        str(client.base_url),
        login.user.username,
        login.password,
        device_name="Moto",
        nonce=str(uuid.uuid4()),
    )
    assert enrollment.full_name == "María José Peña Ruiz"

    db = blank_database(tmp_path / "phone.db")
    app = AppState(db=db, clock=clock, enroller=FakeEnroller())
    app.start()
    # What AppState.setup stores, then a receipt signed with the name, not the username.
    register_device(
        db,
        device_id=enrollment.device_id,
        device_code=enrollment.device_code,
        device_token=enrollment.device_token,
        server_url=str(client.base_url),
        server_epoch=enrollment.server_epoch,
        username=login.user.username,
        full_name=enrollment.full_name,
    )
    app.start()
    client_id = add_client(app.db, "Tienda Mía", "100000")
    app.reload()
    app.open_client(client_id)
    app.start_payment()
    app.payment.amount = "10.000"
    assert app.review_payment() and app.confirm_payment()
    assert app.receipt is not None and app.receipt.collector == "María José Peña Ruiz"


def test_a_lost_me_answer_is_asked_again_at_the_next_sync(
    client: TestClient, session: Session, make_user: MakeUser, tmp_path: Path
) -> None:
    login = make_user("collector")
    rename(session, login, "Jorge Iván Ríos")
    refused: list[str] = []

    def me_fails(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/me":
            refused.append(request.url.path)
            return httpx.Response(503)
        return client._transport.handle_request(request)

    enrollment = HttpEnroller(transport=httpx.MockTransport(me_fails)).enroll(
        str(client.base_url),
        login.user.username,
        login.password,
        device_name="Moto",
        nonce=str(uuid.uuid4()),
    )
    assert (enrollment.full_name, refused) == ("", ["/v1/me"])  # registered all the same
    db = blank_database(tmp_path / "phone.db")
    register_device(
        db,
        device_id=enrollment.device_id,
        device_code=enrollment.device_code,
        device_token=enrollment.device_token,
        server_url=str(client.base_url),
        server_epoch=enrollment.server_epoch,
        username=login.user.username,
    )
    seen: list[str] = []

    def counting(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return client._transport.handle_request(request)

    syncer = make_syncer(db, MobileSettings(), httpx.MockTransport(counting))
    assert syncer(no_progress).ok
    assert known_full_name(db) == "Jorge Iván Ríos" and seen[-1] == "/v1/me"
    seen.clear()
    assert syncer(no_progress).ok
    assert "/v1/me" not in seen  # known: never asked again


class Scripted:
    def __init__(self, *answers: Outcome[Me]) -> None:
        self.answers = list(answers)
        self.calls = 0

    def me(self) -> Outcome[Me]:
        self.calls += 1
        return self.answers.pop(0)


def test_remember_full_name_keeps_the_first_answer(db: sessionmaker[Session]) -> None:
    api = Scripted(
        Failure("retryable", "offline"),
        Ok(Me(user=MeUser(username="gestor1", full_name="  Ana Gómez  "))),
    )
    assert remember_full_name(db, api) == ""
    assert remember_full_name(db, api) == "Ana Gómez"
    assert remember_full_name(db, api) == "Ana Gómez" and api.calls == 2
    app = AppState(db=db, clock=clock, enroller=FakeEnroller())
    app.start()
    assert app.info is not None and app.info.collector == "Ana Gómez"


def test_a_receipt_before_the_name_is_known_shows_the_username(
    db: sessionmaker[Session],
) -> None:
    app = AppState(db=db, clock=clock, enroller=FakeEnroller())
    app.start()
    client_id = add_client(db, "Tienda Mía", "100000")
    app.reload()
    app.open_client(client_id)
    app.start_payment()
    app.payment.amount = "1.000"
    assert app.review_payment() and app.confirm_payment()
    assert app.receipt is not None and app.receipt.collector == "gestor1"
    assert app.receipt.amount == Decimal("1000.00")


def test_sync_client_reads_me(client: TestClient, make_user: MakeUser) -> None:
    login = make_user("collector")
    device = client.post(
        "/v1/devices",
        json={"name": "Moto", "install_nonce": str(uuid.uuid4())},
        headers=login.headers,
    ).json()
    api = SyncClient(str(client.base_url), device["device_token"], transport=client._transport)
    outcome = api.me()
    assert isinstance(outcome, Ok)
    assert (outcome.value.user.username, outcome.value.user.full_name) == (
        login.user.username,
        "Usuario collector",
    )
