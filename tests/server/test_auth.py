"""Login, throttling, and how every kind of bad bearer token is refused."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api.deps import DeviceActorDep
from server.db.models import LoginFailure, User
from server.services import auth as auth_service
from server.services import security
from server.services.security import issue_access_token
from server.settings import Settings
from shared.errors import Unauthenticated
from tests.server.conftest import FakeClock, Login

MakeUser = Callable[..., Login]


def login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/v1/auth/token", data={"username": username, "password": password})


def error_code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


# --- login -------------------------------------------------------------------------------------


def test_login_returns_a_bearer_token_that_opens_me(
    client: TestClient, make_user: MakeUser, settings: Settings
) -> None:
    ana = make_user("supervisor", username="ana")
    response = login(client, "ANA ", ana.password)  # usernames are case-insensitive
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "supervisor"
    assert body["expires_in"] == settings.access_token_minutes * 60 == 43200
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {
        "user": {
            "id": str(ana.user.id),
            "username": "ana",
            "full_name": "Usuario supervisor",
            "role": "supervisor",
        },
        "device": None,
    }


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: TestClient, make_user: MakeUser
) -> None:
    make_user("collector", username="beto")
    wrong = login(client, "beto", "not-the-password")
    unknown = login(client, "nadie", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert error_code(wrong) == "invalid_credentials"
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_unknown_user_is_checked_against_a_hash_too(
    monkeypatch: pytest.MonkeyPatch, session: Session, settings: Settings
) -> None:
    """The unknown-user path must run argon2 (on the dummy hash) so it costs like a wrong
    password; verify_password(None, ...) is that dummy check."""
    calls: list[str | None] = []
    real = security.verify_password

    def spy(password_hash: str | None, password: str) -> bool:
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(auth_service, "verify_password", spy)
    with pytest.raises(Unauthenticated):
        auth_service.login(
            session,
            username="nadie",
            password="x" * 10,
            remote_addr="198.51.100.1",
            settings=settings,
            now=datetime.now(UTC),
        )
    assert calls == [None]


def test_a_failed_login_is_recorded_and_committed(
    client: TestClient, make_user: MakeUser, session: Session
) -> None:
    make_user("collector", username="carla")
    assert login(client, "carla", "wrong-password").status_code == 401
    rows = session.scalars(select(LoginFailure).where(LoginFailure.username == "carla")).all()
    assert [(r.username, r.remote_addr) for r in rows] == [("carla", "testclient")]


def test_disabled_user_cannot_log_in(
    client: TestClient, make_user: MakeUser, session: Session
) -> None:
    dora = make_user("collector", username="dora")
    dora.user.active = False
    session.commit()
    response = login(client, "dora", dora.password)
    assert (response.status_code, error_code(response)) == (401, "user_disabled")
    # with a wrong password the answer reveals nothing
    assert error_code(login(client, "dora", "wrong-password")) == "invalid_credentials"


def test_login_form_needs_both_fields(client: TestClient) -> None:
    response = client.post("/v1/auth/token", data={"username": "x"})
    assert (response.status_code, error_code(response)) == (422, "invalid_input")


# --- throttling ---------------------------------------------------------------------------------


def test_throttle_by_username_until_the_window_passes(
    client: TestClient, make_user: MakeUser, clock: FakeClock
) -> None:
    """Defaults: 5 failures within 900 s. Failures at t0, t0+10, ..., t0+40; the oldest leaves
    the window at t0+900, so at t0+50 the wait is 850 s and at t0+899 it is 1 s."""
    eva = make_user("collector", username="eva")
    for _ in range(5):
        assert error_code(login(client, "eva", "wrong-password")) == "invalid_credentials"
        clock.advance(10)
    # t0+50: even the right password is refused
    response = login(client, "eva", eva.password)
    assert response.status_code == 429
    assert error_code(response) == "too_many_login_attempts"
    assert response.headers["Retry-After"] == "850"
    clock.advance(899 - 50)
    response = login(client, "eva", eva.password)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "1")
    clock.advance(1)  # t0+900: four failures left in the window
    assert login(client, "eva", eva.password).status_code == 200
    # the success cleared eva's failures: four more are not enough to throttle
    for _ in range(4):
        assert login(client, "eva", "wrong-password").status_code == 401
    assert login(client, "eva", eva.password).status_code == 200


def test_throttled_attempts_do_not_extend_the_lock(
    client: TestClient, make_user: MakeUser, clock: FakeClock
) -> None:
    fer = make_user("collector", username="fer")
    for _ in range(5):
        login(client, "fer", "wrong-password")
    for _ in range(10):
        clock.advance(60)
        assert login(client, "fer", "wrong-password").status_code == 429
    clock.advance(300)  # t0+900
    assert login(client, "fer", fer.password).status_code == 200


def test_throttle_by_remote_address(app: FastAPI, make_user: MakeUser, clock: FakeClock) -> None:
    gil = make_user("collector", username="gil")
    with (
        TestClient(app, client=("203.0.113.7", 40000)) as attacker,
        TestClient(app, client=("198.51.100.20", 40000)) as office,
    ):
        for i in range(5):  # five different usernames from one address
            assert login(attacker, f"guess-{i}", "whatever-1").status_code == 401
        response = login(attacker, "gil", gil.password)
        assert (response.status_code, error_code(response)) == (429, "too_many_login_attempts")
        assert response.headers["Retry-After"] == "900"
        assert login(office, "gil", gil.password).status_code == 200


def test_throttle_is_per_username(
    client: TestClient, make_user: MakeUser, clock: FakeClock
) -> None:
    hugo = make_user("collector", username="hugo")
    make_user("collector", username="ines")
    with (
        TestClient(client.app, client=("192.0.2.1", 1)) as a,
        TestClient(client.app, client=("192.0.2.2", 1)) as b,
    ):
        for i in range(5):  # spread over addresses so only the username count trips
            login(a if i % 2 else b, "ines", "wrong-password")
        assert login(a, "ines", "anything-1").status_code == 429
        assert login(a, "hugo", hugo.password).status_code == 200


def test_old_failures_are_pruned(client: TestClient, session: Session, clock: FakeClock) -> None:
    login(client, "ivan", "wrong-password")
    clock.advance(901)
    login(client, "juan", "wrong-password")
    names = session.scalars(select(LoginFailure.username)).all()
    assert "ivan" not in names
    assert "juan" in names


def test_the_throttle_reads_the_settings(
    app: FastAPI, make_user: MakeUser, clock: FakeClock, settings: Settings
) -> None:
    settings.login_max_failures = 2
    settings.login_window_seconds = 60
    kim = make_user("collector", username="kim")
    with TestClient(app) as c:
        login(c, "kim", "wrong-password")
        clock.advance(5)
        login(c, "kim", "wrong-password")
        response = login(c, "kim", kim.password)
        # the older of the two failures (t0) leaves the window at t0+60; now is t0+5
        assert (response.status_code, response.headers["Retry-After"]) == (429, "55")
        clock.advance(55)
        assert login(c, "kim", kim.password).status_code == 200


# --- bad tokens ---------------------------------------------------------------------------------


def _get_me(client: TestClient, token: str) -> tuple[int, str]:
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.headers.get("WWW-Authenticate") == "Bearer"
    return response.status_code, error_code(response)


def test_no_token(client: TestClient) -> None:
    response = client.get("/v1/me")
    assert (response.status_code, error_code(response)) == (401, "not_authenticated")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "rdt_not-a-device-token"])
def test_garbage_tokens(client: TestClient, token: str) -> None:
    assert _get_me(client, token) == (401, "invalid_token")


def test_expired_token(client: TestClient, make_user: MakeUser, settings: Settings) -> None:
    lia = make_user("collector")
    token = issue_access_token(
        lia.user.id,
        "collector",
        settings.signing_key,
        timedelta(minutes=5),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    assert _get_me(client, token) == (401, "token_expired")


def test_token_signed_with_another_key(client: TestClient, make_user: MakeUser) -> None:
    lia = make_user("collector")
    token = issue_access_token(lia.user.id, "collector", "another-key-" * 4, timedelta(hours=1))
    assert _get_me(client, token) == (401, "invalid_token")


def test_token_without_the_user_type(
    client: TestClient, make_user: MakeUser, settings: Settings
) -> None:
    lia = make_user("collector")
    token = jwt.encode(
        {"sub": str(lia.user.id), "role": "admin", "exp": datetime.now(UTC) + timedelta(hours=1)},
        settings.signing_key,
        algorithm="HS256",
    )
    assert _get_me(client, token) == (401, "invalid_token")


def test_token_of_a_user_that_does_not_exist(client: TestClient, settings: Settings) -> None:
    token = issue_access_token(uuid.uuid4(), "admin", settings.signing_key, timedelta(hours=1))
    assert _get_me(client, token) == (401, "invalid_token")


def test_token_of_a_disabled_user(
    client: TestClient, make_user: MakeUser, session: Session
) -> None:
    lia = make_user("supervisor")
    token = lia.headers["Authorization"].removeprefix("Bearer ")
    assert client.get("/v1/me", headers=lia.headers).status_code == 200
    lia.user.active = False
    session.commit()
    assert _get_me(client, token) == (401, "user_disabled")


def test_the_role_comes_from_the_database_not_the_token(
    client: TestClient, make_user: MakeUser, session: Session
) -> None:
    """A demoted user's old token carries the old role; the database wins."""
    max_ = make_user("admin")
    max_.user.role = "collector"
    session.commit()
    assert client.get("/v1/me", headers=max_.headers).json()["user"]["role"] == "collector"
    response = client.post(f"/v1/devices/{uuid.uuid4()}/revoke", headers=max_.headers)
    assert (response.status_code, error_code(response)) == (403, "insufficient_role")


def _register(client: TestClient, headers: dict[str, str], nonce: str = "nonce-0001") -> Any:
    response = client.post(
        "/v1/devices", json={"name": "Moto G", "install_nonce": nonce}, headers=headers
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_me_with_a_device_token(client: TestClient, make_user: MakeUser) -> None:
    col = make_user("collector", username="nora")
    reg = _register(client, col.headers)
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {reg['device_token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "nora"
    assert me.json()["device"] == {
        "id": reg["device_id"],
        "code": reg["device_code"],
        "name": "Moto G",
    }


def test_device_token_of_a_revoked_device(client: TestClient, make_user: MakeUser) -> None:
    col = make_user("collector")
    admin = make_user("admin")
    reg = _register(client, col.headers)
    assert client.post(f"/v1/devices/{reg['device_id']}/revoke", headers=admin.headers).is_success
    assert _get_me(client, reg["device_token"]) == (401, "device_revoked")


def test_device_token_of_a_disabled_user(
    client: TestClient, make_user: MakeUser, session: Session
) -> None:
    col = make_user("collector")
    reg = _register(client, col.headers)
    col.user.active = False
    session.commit()
    assert _get_me(client, reg["device_token"]) == (401, "user_disabled")


def test_device_token_of_a_user_promoted_to_the_office(
    client: TestClient, make_user: MakeUser, session: Session
) -> None:
    """Device tokens never expire, so they never carry office powers."""
    col = make_user("collector")
    reg = _register(client, col.headers)
    col.user.role = "supervisor"
    session.commit()
    assert _get_me(client, reg["device_token"]) == (401, "device_not_allowed")


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    """A route that needs a device token, as the sync routes will."""
    router = APIRouter()

    @router.get("/probe/device")
    def probe(actor: DeviceActorDep) -> dict[str, str]:
        return {"device_id": str(actor.device_id)}

    app.include_router(router)
    return app


def test_a_user_token_where_a_device_token_is_required(
    probe_app: FastAPI, make_user: MakeUser
) -> None:
    col = make_user("collector")
    with TestClient(probe_app) as c:
        response = c.get("/probe/device", headers=col.headers)
        assert (response.status_code, error_code(response)) == (401, "device_token_required")
        reg = _register(c, col.headers)
        ok = c.get("/probe/device", headers={"Authorization": f"Bearer {reg['device_token']}"})
        assert ok.json() == {"device_id": reg["device_id"]}


def test_a_device_token_cannot_register_another_device(
    client: TestClient, make_user: MakeUser
) -> None:
    col = make_user("collector")
    reg = _register(client, col.headers)
    response = client.post(
        "/v1/devices",
        json={"name": "otro", "install_nonce": "nonce-0002"},
        headers={"Authorization": f"Bearer {reg['device_token']}"},
    )
    assert (response.status_code, error_code(response)) == (401, "user_token_required")


def test_password_is_rehashed_when_parameters_change(client: TestClient, session: Session) -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    user = User(username="olga", role="collector", password_hash=weak.hash("clave-segura-1"))
    session.add(user)
    session.commit()
    old_hash = user.password_hash
    assert login(client, "olga", "clave-segura-1").status_code == 200
    session.refresh(user)
    assert user.password_hash != old_hash
    assert "m=8," not in user.password_hash
    assert login(client, "olga", "clave-segura-1").status_code == 200
