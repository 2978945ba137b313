"""A phone talking to the REAL FastAPI app in-process (starlette's TestClient transport), with a
small fault injector in between, plus the server-side view the phone must converge to."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import ClientMirror
from mobile.net.client import SyncClient
from mobile.services.device import register_device
from mobile.services.syncing import SyncOptions, SyncReport, sync_once
from server.repositories import changes as changes_repo
from tests.mobile.conftest import blank_database
from tests.server.conftest import Login

Fault = Callable[[httpx.Request, httpx.BaseTransport], httpx.Response]


def status(code: int, error: str, retry_after: str | None = None) -> Fault:
    """Answer without reaching the server (a proxy or load balancer refusing)."""
    headers = {"Retry-After": retry_after} if retry_after else {}
    body = {"error": {"code": error, "message": error, "details": None}}
    return lambda _req, _inner: httpx.Response(code, json=body, headers=headers)


def lose_response(request: httpx.Request, inner: httpx.BaseTransport) -> httpx.Response:
    """The server handles the request (and commits); the answer never arrives."""
    response = inner.handle_request(request)
    response.read()
    response.close()
    raise httpx.ReadError("connection reset by peer", request=request)


@dataclass
class FaultyNetwork(httpx.BaseTransport):
    """Each request takes the next planned fault (None: delivered normally)."""

    inner: httpx.BaseTransport
    plan: list[Fault | None] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # "POST /v1/sync/push", ...

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.log.append(f"{request.method} {request.url.path}")
        fault = self.plan.pop(0) if self.plan else None
        if fault is None:
            return self.inner.handle_request(request)
        return fault(request, self.inner)


@dataclass
class LivePhone:
    db: sessionmaker[Session]
    api: SyncClient
    net: FaultyNetwork
    device_id: str
    device_code: str
    login: Login

    def sync(self, **options: object) -> SyncReport:
        return sync_once(self.db, self.api, options=SyncOptions(**options))  # type: ignore[arg-type]


def enroll(client: TestClient, login: Login, path: Path) -> LivePhone:
    """What the app's first run does: register this installation, store the identity."""
    answer = client.post(
        "/v1/devices",
        json={"name": "Moto G", "install_nonce": f"install-{uuid.uuid4().hex}"},
        headers=login.headers,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    db = blank_database(path)
    register_device(
        db,
        device_id=body["device_id"],
        device_code=body["device_code"],
        device_token=body["device_token"],
        server_url=str(client.base_url),
        server_epoch=body["server_epoch"],
        username=login.user.username,
    )
    net = FaultyNetwork(client._transport)
    api = SyncClient(str(client.base_url), body["device_token"], transport=net)
    return LivePhone(db, api, net, body["device_id"], body["device_code"], login)


def mirror_view(db: sessionmaker[Session]) -> set[tuple[str, int, Decimal]]:
    with db() as session:
        rows = session.execute(select(ClientMirror.id, ClientMirror.version, ClientMirror.balance))
        return {(cid, version, balance) for cid, version, balance in rows}


def server_view(session: Session, user_id: uuid.UUID) -> set[tuple[str, int, Decimal]]:
    """The collector's scope as the server sees it: what the mirror must equal (invariant 5)."""
    session.expire_all()
    return {
        (str(cid), version, balance)
        for cid, version, balance in changes_repo.scope_versions(session, user_id)
    }


def enroll_over_http(base_url: str, login: Login, path: Path) -> tuple[sessionmaker[Session], str]:
    """`enroll` against a server on a socket: the phone database and its device token."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        answer = http.post(
            "/v1/devices",
            json={"name": "Moto G", "install_nonce": f"install-{uuid.uuid4().hex}"},
            headers=login.headers,
        )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    db = blank_database(path)
    register_device(
        db,
        device_id=body["device_id"],
        device_code=body["device_code"],
        device_token=body["device_token"],
        server_url=base_url,
        server_epoch=body["server_epoch"],
        username=login.user.username,
    )
    return db, body["device_token"]
