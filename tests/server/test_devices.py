"""Device registration (with idempotent retry), codes, listing, revocation, last seen, epoch."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditLog, Device
from server.services import devices as devices_service
from server.services.access import Actor
from server.services.security import hash_device_token
from shared.errors import Conflict, Forbidden
from tests.server.conftest import FakeClock, Login

MakeUser = Callable[..., Login]
CODE_RE = re.compile(r"[2-9A-HJ-NP-Z]{3}")


def register(
    client: TestClient, headers: dict[str, str], nonce: str = "install-0001", name: str = "Moto G"
) -> Any:
    return client.post("/v1/devices", json={"name": name, "install_nonce": nonce}, headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_actions(session: Session, entity_id: str) -> list[str]:
    return list(
        session.scalars(
            select(AuditLog.action).where(AuditLog.entity_id == entity_id).order_by(AuditLog.id)
        )
    )


def test_register_a_device(client: TestClient, make_user: MakeUser, session: Session) -> None:
    col = make_user("collector")
    response = register(client, col.headers)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"device_id", "device_code", "device_token", "server_epoch"}
    assert CODE_RE.fullmatch(body["device_code"])
    assert body["device_token"].startswith("rdt_")
    uuid.UUID(body["server_epoch"])
    device = session.get(Device, uuid.UUID(body["device_id"]))
    assert device is not None
    assert device.user_id == col.user.id
    assert device.code == body["device_code"]
    # only the hash is stored
    assert device.token_hash == hash_device_token(body["device_token"])
    assert body["device_token"] not in device.token_hash
    assert audit_actions(session, body["device_id"]) == ["device.registered"]


def test_a_retry_returns_the_same_device_with_a_new_token(
    client: TestClient, make_user: MakeUser, session: Session
) -> None:
    """The phone lost the first answer and asks again with the same install_nonce."""
    col = make_user("collector")
    first = register(client, col.headers).json()
    retry = register(client, col.headers, name="Moto G (2)")
    assert retry.status_code == 200
    second = retry.json()
    assert second["device_id"] == first["device_id"]
    assert second["device_code"] == first["device_code"]
    assert second["server_epoch"] == first["server_epoch"]
    assert second["device_token"] != first["device_token"]
    # the old token is retired, the new one works
    assert client.get("/v1/me", headers=bearer(first["device_token"])).status_code == 401
    me = client.get("/v1/me", headers=bearer(second["device_token"]))
    assert me.json()["device"]["name"] == "Moto G (2)"
    count = session.scalars(select(Device.id).where(Device.user_id == col.user.id)).all()
    assert len(count) == 1
    assert audit_actions(session, first["device_id"]) == [
        "device.registered",
        "device.token_rotated",
    ]


def test_a_new_nonce_is_a_new_device(client: TestClient, make_user: MakeUser) -> None:
    col = make_user("collector")
    a = register(client, col.headers, nonce="install-aaaa").json()
    b = register(client, col.headers, nonce="install-bbbb").json()
    assert a["device_id"] != b["device_id"]
    assert a["device_code"] != b["device_code"]


def test_the_nonce_belongs_to_one_user(client: TestClient, make_user: MakeUser) -> None:
    a = register(client, make_user("collector").headers, nonce="same-nonce").json()
    b = register(client, make_user("collector").headers, nonce="same-nonce").json()
    assert a["device_id"] != b["device_id"]


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_only_collectors_register_devices(
    client: TestClient, make_user: MakeUser, role: str
) -> None:
    response = register(client, make_user(role).headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_role"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Moto", "install_nonce": "short"},
        {"name": "  ", "install_nonce": "install-0001"},
        {"name": "Moto", "install_nonce": "has spaces in it"},
        {"name": "x" * 121, "install_nonce": "install-0001"},
        {"install_nonce": "install-0001"},
    ],
)
def test_bad_registration_bodies(
    client: TestClient, make_user: MakeUser, body: dict[str, str]
) -> None:
    response = client.post("/v1/devices", json=body, headers=make_user("collector").headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def _actor(login: Login) -> Actor:
    return Actor(user_id=login.user.id, username=login.user.username, role=login.user.role)


def test_a_taken_code_is_drawn_again(session: Session, make_user: MakeUser) -> None:
    first = devices_service.register_device(
        session,
        _actor(make_user("collector")),
        name="a",
        install_nonce="install-0001",
        now=datetime.now(UTC),
        new_code=lambda: "K7Q",
    )
    draws: Iterator[str] = iter(["K7Q", "K7Q", "M2X"])
    second = devices_service.register_device(
        session,
        _actor(make_user("collector")),
        name="b",
        install_nonce="install-0001",
        now=datetime.now(UTC),
        new_code=lambda: next(draws),
    )
    assert (first.device.code, second.device.code) == ("K7Q", "M2X")


def test_no_free_code_is_a_clear_error(session: Session, make_user: MakeUser) -> None:
    now = datetime.now(UTC)
    devices_service.register_device(
        session, _actor(make_user("collector")), name="a", install_nonce="n-000001", now=now,
        new_code=lambda: "AAA",
    )  # fmt: skip
    with pytest.raises(Conflict) as caught:
        devices_service.register_device(
            session, _actor(make_user("collector")), name="b", install_nonce="n-000002", now=now,
            new_code=lambda: "AAA",
        )  # fmt: skip
    assert caught.value.code == "device_codes_exhausted"


def test_random_codes_use_only_unambiguous_characters() -> None:
    codes = {devices_service.random_device_code() for _ in range(3000)}
    assert all(CODE_RE.fullmatch(c) for c in codes)
    assert not set("".join(codes)) & set("0O1I")
    # 3000 draws from 32^3 = 32,768 codes: all 32 characters show up
    assert set("".join(codes)) == set(devices_service.DEVICE_CODE_ALPHABET)
    assert len(devices_service.DEVICE_CODE_ALPHABET) == 32


def test_list_devices_by_role(client: TestClient, make_user: MakeUser) -> None:
    ana = make_user("collector", username="ana-lista")
    beto = make_user("collector", username="beto-lista")
    register(client, ana.headers)
    register(client, beto.headers)
    for role in ("supervisor", "admin"):
        listed = client.get("/v1/devices", headers=make_user(role).headers).json()
        assert {"ana-lista", "beto-lista"} <= {d["username"] for d in listed}
    own = client.get("/v1/devices", headers=ana.headers).json()
    assert [d["username"] for d in own] == ["ana-lista"]
    assert set(own[0]) == {
        "id",
        "code",
        "name",
        "user_id",
        "username",
        "created_at",
        "last_seen_at",
        "revoked_at",
    }


def test_revoke(
    client: TestClient, make_user: MakeUser, session: Session, clock: FakeClock
) -> None:
    col = make_user("collector")
    admin = make_user("admin")
    reg = register(client, col.headers).json()
    url = f"/v1/devices/{reg['device_id']}/revoke"
    for who in (col, make_user("supervisor")):
        response = client.post(url, headers=who.headers)
        assert (response.status_code, response.json()["error"]["code"]) == (
            403,
            "insufficient_role",
        )
    response = client.post(url, headers=admin.headers)
    assert response.status_code == 200
    revoked_at = response.json()["revoked_at"]
    assert datetime.fromisoformat(revoked_at) == clock.now
    clock.advance(60)
    again = client.post(url, headers=admin.headers)  # revoking twice changes nothing
    assert again.json()["revoked_at"] == revoked_at
    me = client.get("/v1/me", headers=bearer(reg["device_token"]))
    assert me.json()["error"]["code"] == "device_revoked"
    assert audit_actions(session, reg["device_id"]) == ["device.registered", "device.revoked"]
    # the same installation cannot come back with a rotated token
    response = register(client, col.headers)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "device_revoked")
    # a reinstall (new nonce) is a new device, with a new code
    fresh = register(client, col.headers, nonce="install-0002")
    assert fresh.status_code == 201
    assert fresh.json()["device_code"] != reg["device_code"]


def test_revoke_an_unknown_device(client: TestClient, make_user: MakeUser) -> None:
    response = client.post(f"/v1/devices/{uuid.uuid4()}/revoke", headers=make_user("admin").headers)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "device_not_found")


def test_last_seen_is_stamped_at_most_once_a_minute(
    client: TestClient, make_user: MakeUser, session: Session, clock: FakeClock
) -> None:
    col = make_user("collector")
    reg = register(client, col.headers).json()
    device_id = uuid.UUID(reg["device_id"])

    def last_seen() -> datetime | None:
        seen: datetime | None = session.scalar(
            select(Device.last_seen_at).where(Device.id == device_id)
        )
        return seen

    assert last_seen() is None  # registering is not using the device token
    t0 = clock.now
    client.get("/v1/me", headers=bearer(reg["device_token"]))  # a read-only route
    assert last_seen() == t0
    clock.advance(59)
    client.get("/v1/me", headers=bearer(reg["device_token"]))
    assert last_seen() == t0
    clock.advance(1)
    client.get("/v1/me", headers=bearer(reg["device_token"]))
    assert last_seen() == t0 + timedelta(seconds=60)


def test_server_epoch_is_stable_until_rotated(
    client: TestClient, make_user: MakeUser, session: Session
) -> None:
    a = register(client, make_user("collector").headers).json()
    b = register(client, make_user("collector").headers).json()
    assert a["server_epoch"] == b["server_epoch"]
    now = datetime.now(UTC)
    assert devices_service.current_server_epoch(session, now=now) == a["server_epoch"]
    rotated = devices_service.rotate_server_epoch(session, now=now, reason="restored backup")
    session.commit()
    assert rotated != a["server_epoch"]
    c = register(client, make_user("collector").headers).json()
    assert c["server_epoch"] == rotated


def test_service_refuses_office_roles(session: Session, make_user: MakeUser) -> None:
    with pytest.raises(Forbidden):
        devices_service.register_device(
            session,
            _actor(make_user("admin")),
            name="x",
            install_nonce="install-0001",
            now=datetime.now(UTC),
        )
