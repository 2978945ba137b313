"""Who may call what: a role x endpoint x ownership matrix GENERATED FROM THE APP'S ROUTE TABLE.

Every API route of the app must be declared in ROUTES below; an undeclared route fails
`test_every_route_is_declared`, so whoever adds an endpoint states who may call it, and the matrix
then checks it on its own:

- without a token: 401 on every /v1/ route except the login (or the declared status elsewhere);
- for each caller (collector, supervisor, admin, and a collector's device token): 2xx for the
  roles declared, 403 for the others, 401 when the kind of token is wrong (a device token where
  a password login is needed, or a user token on a device-only route);
- for routes with `{client_id}`: a collector asking for another collector's client gets 404
  (not 403: ids are not probed), for their own they get the declared answer;
- for lists a collector may read (`filtered_by`): a collector gets only their own rows;
- the supervisor's HTML pages (`auth="cookie"`) are called with the session cookie instead of a
  bearer header (and the form token on POSTs): without a session they answer 303 to the login
  page, a collector gets 403, a device token in the cookie is no session (303), and the office
  gets the declared answer. `auth="public"` pages (the login form) answer everyone alike.

Declared routes that do not exist yet only warn. Samples (the request each caller sends) come
from the World below; a route that needs a new path parameter adds it to `path_values`.
"""

from __future__ import annotations

import functools
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.db.models import Client, User
from server.main import create_app
from server.services.security import hash_password, issue_access_token
from server.settings import Settings
from server.web.cookies import LOGIN_COOKIE, SESSION_COOKIE, csrf_token

ROLES = ("collector", "supervisor", "admin")
CALLERS = (*ROLES, "device")  # "device": the collector's device token
ANYONE = frozenset(ROLES)
OFFICE = frozenset({"supervisor", "admin"})
FIELD_AND_OFFICE = ANYONE
ADMIN = frozenset({"admin"})
COLLECTOR = frozenset({"collector"})
# The only /v1/ routes that answer without a token.
# The login, and the check of a printed paz y salvo code (its link is on a paper anyone holds).
PUBLIC_V1 = {("POST", "/v1/auth/token"), ("GET", "/v1/clearances/verify/{code}")}
NO_SUCH_ID = "00000000-0000-4000-8000-0000000000ff"
PASSWORD = "clave-de-la-matriz"
NO_REVIEW_ITEM = "999999999"
NO_AGREEMENT = "00000000-0000-4000-8000-00000000a9a9"
NO_HANDOVER = "00000000-0000-4000-8000-00000000c4c4"
NO_DISPUTE = "00000000-0000-4000-8000-00000000d15e"  # no such dispute or reconciliation


@dataclass
class World:
    """What a sample request may refer to: two collectors with a client and a device each."""

    tokens: dict[str, str]  # caller -> bearer token
    usernames: dict[str, str]
    password: str
    own_client: str  # the collector's client
    other_client: str  # another collector's client
    own_device: str
    other_device: str
    signing_key: str

    def path_values(self, client_id: str) -> dict[str, str]:
        # item_id: no such review item; an office caller passes the role check and gets 404.
        return {
            "client_id": client_id,
            "device_id": self.own_device,
            "item_id": NO_REVIEW_ITEM,
            "username": self.usernames["collector"],
            "day": "2026-11-20",
            "fmt": "xlsx",
            "firm_id": NO_SUCH_ID,
            "referral_id": NO_SUCH_ID,
            "clearance_id": NO_SUCH_ID,
            "code": "AAAA-BBBB-CCCC",
            "handover_id": NO_HANDOVER,
            "agreement_id": NO_AGREEMENT,
            "dispute_id": NO_DISPUTE,
            "reconciliation_id": NO_DISPUTE,
        }


Sample = Callable[[World], dict[str, Any]]
MakeClient = Callable[..., Client]


def no_body(_: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Access:
    roles: frozenset[str]  # the roles that get a 2xx answer to the sample request
    anonymous: int = 401  # the status without any token
    token: Literal["any", "user", "device"] = "any"  # which kind of bearer token it accepts
    ok: frozenset[int] = frozenset({200})
    sample: Sample = no_body
    filtered_by: Literal["client", "device"] | None = None  # a collector sees only their own
    auth: Literal["bearer", "cookie", "public"] = "bearer"  # cookie: a supervisor page


def page(ok: int = 200, sample: Sample = no_body) -> Access:
    """A supervisor page: office only, through the session cookie."""
    return Access(OFFICE, anonymous=303, ok=frozenset({ok}), sample=sample, auth="cookie")


def _page_login(w: World) -> dict[str, Any]:
    form = {"username": w.usernames["supervisor"], "password": w.password, "nonce": "n-1"}
    return {"data": form, "cookies": {LOGIN_COOKIE: "n-1"}}


def _login(w: World) -> dict[str, Any]:
    return {"data": {"username": w.usernames["collector"], "password": w.password}}


_LEDGER_CSV = (
    "codigo_cliente,nombre_cliente,factura,fecha_vencimiento,valor\n"
    "C-MATRIX-1,Cliente Matriz,FE-MATRIX-1,2026-01-31,1000.00\n"
)


def _agreement(_: World) -> dict[str, Any]:
    due = datetime.now(UTC).date() + timedelta(days=30)
    return {"json": {"installments": [{"due_date": due.isoformat(), "amount": "1000.00"}]}}


ROUTES: dict[tuple[str, str], Access] = {
    ("GET", "/healthz"): Access(ANYONE, anonymous=200),
    # the interactive API documentation (the OpenAPI document lists no secrets)
    ("GET", "/docs"): Access(ANYONE, anonymous=200),
    ("GET", "/docs/oauth2-redirect"): Access(ANYONE, anonymous=200),
    # auth and devices
    ("POST", "/v1/auth/token"): Access(ANYONE, anonymous=200, sample=_login),
    ("GET", "/v1/me"): Access(ANYONE),
    ("POST", "/v1/devices"): Access(
        COLLECTOR,
        token="user",
        ok=frozenset({201}),
        sample=lambda w: {"json": {"name": "Otro", "install_nonce": f"m-{uuid.uuid4()}"}},
    ),
    ("GET", "/v1/devices"): Access(ANYONE, filtered_by="device"),
    ("POST", "/v1/devices/{device_id}/revoke"): Access(ADMIN),
    ("POST", "/v1/devices/{device_id}/events"): Access(
        OFFICE,
        sample=lambda w: {
            "json": [
                {"protocol": 1, "device_id": w.own_device, "app_version": "1.0.0", "events": []}
            ]
        },
    ),
    # clients (a collector's list is filtered, not refused; a statement is office + own)
    ("GET", "/v1/clients"): Access(ANYONE, filtered_by="client"),
    ("GET", "/v1/clients/{client_id}"): Access(ANYONE),
    ("GET", "/v1/clients/{client_id}/statement"): Access(ANYONE),
    ("PUT", "/v1/clients/{client_id}/assignment"): Access(
        OFFICE, sample=lambda w: {"json": {"collector": w.usernames["collector"]}}
    ),
    # reports and imports
    ("GET", "/v1/reports/aging"): Access(OFFICE),
    ("POST", "/v1/imports/ledger"): Access(
        ADMIN, sample=lambda _: {"files": {"file": ("ledger.csv", _LEDGER_CSV, "text/csv")}}
    ),
    # Declared from api.md before they exist: check the sample when the route lands.
    ("GET", "/v1/reports/weekly-visits"): Access(
        OFFICE, sample=lambda _: {"params": {"week": "2026-W48"}}
    ),
    ("GET", "/v1/reports/kpis"): Access(
        OFFICE, sample=lambda _: {"params": {"from": "2026-11-01", "to": "2026-11-30"}}
    ),
    ("GET", "/v1/reports/weekly-management"): Access(
        OFFICE, sample=lambda _: {"params": {"week": "2026-W47"}}
    ),
    ("GET", "/v1/reports/commissions"): Access(
        OFFICE, sample=lambda _: {"params": {"from": "2026-11-01", "to": "2026-11-30"}}
    ),
    ("GET", "/v1/review"): Access(OFFICE),
    ("GET", "/v1/review/{item_id}"): Access(OFFICE, ok=frozenset({404})),
    ("POST", "/v1/review/{item_id}/resolve"): Access(
        OFFICE, ok=frozenset({404}), sample=lambda _: {"json": {"resolution": "accepted"}}
    ),
    ("POST", "/v1/review/{item_id}/post-to-client"): Access(
        OFFICE, ok=frozenset({404}), sample=lambda w: {"json": {"client_id": w.own_client}}
    ),
    ("GET", "/v1/reports/flagged-visits"): Access(
        OFFICE, sample=lambda _: {"params": {"from": "2026-11-01", "to": "2026-11-30"}}
    ),
    # payment agreements (a collector reads their own clients'; the office decides)
    # 409 agreement_already_active: the second office caller meets the first one's agreement.
    ("POST", "/v1/clients/{client_id}/agreements"): Access(
        OFFICE, ok=frozenset({201, 409}), sample=_agreement
    ),
    ("GET", "/v1/agreements"): Access(ANYONE),
    ("GET", "/v1/agreements/{agreement_id}"): Access(ANYONE, ok=frozenset({404})),
    ("POST", "/v1/agreements/{agreement_id}/approve"): Access(OFFICE, ok=frozenset({404})),
    ("POST", "/v1/agreements/{agreement_id}/reject"): Access(
        OFFICE, ok=frozenset({404}), sample=lambda _: {"json": {"note": "no"}}
    ),
    ("POST", "/v1/agreements/{agreement_id}/cancel"): Access(OFFICE, ok=frozenset({404})),
    # cash in hand and handovers (a collector: their own)
    ("GET", "/v1/cash/in-hand"): Access(ANYONE),
    ("GET", "/v1/cash/handovers"): Access(ANYONE),
    ("POST", "/v1/cash/handovers/{handover_id}/confirm"): Access(
        OFFICE, ok=frozenset({404}), sample=lambda _: {"json": {"amount": "1000.00"}}
    ),
    ("POST", "/v1/cash/handovers/{handover_id}/reject"): Access(
        OFFICE, ok=frozenset({404}), sample=lambda _: {"json": {"note": "no aparece"}}
    ),
    # disputes and reconciliations (office only; a phone opens disputes through the push)
    ("POST", "/v1/clients/{client_id}/disputes"): Access(
        OFFICE,
        ok=frozenset({422}),  # the matrix's client has no invoice: invoice_not_found
        sample=lambda _: {
            "json": {"invoice_number": "FE-NO-SUCH", "amount": "1.00", "reason_code": "other"}
        },
    ),
    ("GET", "/v1/disputes"): Access(OFFICE),
    ("GET", "/v1/disputes/{dispute_id}"): Access(OFFICE, ok=frozenset({404})),
    ("POST", "/v1/disputes/{dispute_id}/accept"): Access(
        OFFICE, ok=frozenset({404}), sample=lambda _: {"json": {}}
    ),
    ("POST", "/v1/disputes/{dispute_id}/reject"): Access(
        OFFICE, ok=frozenset({404}), sample=lambda _: {"json": {"note": "sin soporte"}}
    ),
    ("POST", "/v1/clients/{client_id}/reconciliations"): Access(
        OFFICE, ok=frozenset({201}), sample=lambda _: {"json": {"scheduled_for": "2026-12-01"}}
    ),
    ("GET", "/v1/reconciliations"): Access(OFFICE),
    ("GET", "/v1/reconciliations/{reconciliation_id}"): Access(OFFICE, ok=frozenset({404})),
    ("POST", "/v1/reconciliations/{reconciliation_id}/complete"): Access(
        OFFICE,
        ok=frozenset({404}),
        sample=lambda _: {"json": {"as_of": "2026-11-01", "client_balance": "0.00"}},
    ),
    # cobro jurídico, paz y salvo and segmentation (office; the code check is public)
    ("GET", "/v1/law-firms"): Access(OFFICE),
    ("POST", "/v1/law-firms"): Access(
        OFFICE, ok=frozenset({201}), sample=lambda _: {"json": {"name": f"Firma {uuid.uuid4()}"}}
    ),
    ("PATCH", "/v1/law-firms/{firm_id}"): Access(
        OFFICE, ok=frozenset({404}), sample=lambda _: {"json": {"active": False}}
    ),
    ("POST", "/v1/clients/{client_id}/legal-referrals"): Access(
        OFFICE,
        ok=frozenset({422}),  # no such law firm: the role and the client passed
        sample=lambda _: {"json": {"law_firm_id": NO_SUCH_ID, "reason": "mora"}},
    ),
    ("GET", "/v1/legal-referrals"): Access(OFFICE),
    ("GET", "/v1/legal-referrals/suggested"): Access(OFFICE),
    ("GET", "/v1/legal-referrals/{referral_id}"): Access(OFFICE, ok=frozenset({404})),
    ("POST", "/v1/legal-referrals/{referral_id}/updates"): Access(
        OFFICE, ok=frozenset({404}), sample=lambda _: {"json": {"status": "in_progress"}}
    ),
    ("POST", "/v1/clients/{client_id}/clearance"): Access(OFFICE, ok=frozenset({201})),
    ("GET", "/v1/clearances/{clearance_id}"): Access(OFFICE, ok=frozenset({404})),
    ("GET", "/v1/clearances/{clearance_id}.pdf"): Access(OFFICE, ok=frozenset({404})),
    ("GET", "/v1/clearances/verify/{code}"): Access(ANYONE, anonymous=200),
    ("GET", "/v1/reports/segmentation"): Access(OFFICE),
    ("GET", "/verificar/{code}"): Access(ANYONE, anonymous=404, ok=frozenset({404}), auth="public"),
    # the supervisor's pages (server/web)
    ("GET", "/supervisor/login"): Access(ANYONE, anonymous=200, auth="public"),
    ("POST", "/supervisor/login"): Access(
        ANYONE, anonymous=303, ok=frozenset({303}), auth="public", sample=_page_login
    ),
    ("POST", "/supervisor/logout"): page(303),
    ("GET", "/supervisor/"): page(),
    ("GET", "/supervisor/collectors/{username}/days/{day}"): page(),
    ("GET", "/supervisor/collectors/{username}/days/{day}/map"): page(),
    ("GET", "/supervisor/review"): page(),
    ("POST", "/supervisor/review/{item_id}/resolve"): page(
        404, sample=lambda _: {"data": {"resolution": "accepted"}}
    ),
    ("POST", "/supervisor/review/{item_id}/post-to-client"): page(
        404, sample=lambda w: {"data": {"client_code": "C-NO-SUCH"}}
    ),
    ("GET", "/supervisor/clients"): page(),
    ("GET", "/supervisor/agreements"): page(),
    ("GET", "/supervisor/agreements/new"): page(),
    ("POST", "/supervisor/agreements/new"): page(
        422, sample=lambda _: {"data": {"client_code": "C-NO-SUCH"}}
    ),
    ("POST", "/supervisor/agreements/{agreement_id}/approve"): page(404),
    ("POST", "/supervisor/agreements/{agreement_id}/reject"): page(
        404, sample=lambda _: {"data": {"note": "no"}}
    ),
    ("POST", "/supervisor/agreements/{agreement_id}/cancel"): page(404),
    ("POST", "/supervisor/clients/{client_id}/assignment"): page(
        303, sample=lambda w: {"data": {"collector": w.usernames["collector"]}}
    ),
    ("GET", "/supervisor/clients/{client_id}/statement"): page(),
    ("GET", "/supervisor/clients/{client_id}/statement.pdf"): page(),
    ("GET", "/supervisor/legal"): page(),
    ("POST", "/supervisor/legal/referrals"): page(
        422, sample=lambda w: {"data": {"client_id": w.own_client, "law_firm_id": NO_SUCH_ID}}
    ),
    ("POST", "/supervisor/legal/referrals/{referral_id}/updates"): page(
        404, sample=lambda _: {"data": {"status": "in_progress"}}
    ),
    ("POST", "/supervisor/legal/firms"): page(
        303, sample=lambda _: {"data": {"name": f"Firma {uuid.uuid4()}"}}
    ),
    ("POST", "/supervisor/legal/firms/{firm_id}/active"): page(404),
    ("GET", "/supervisor/portfolio"): page(),
    ("GET", "/supervisor/portfolio.xlsx"): page(),
    ("POST", "/supervisor/clients/{client_id}/clearance"): page(303),
    ("GET", "/supervisor/clearances/{clearance_id}"): page(404),
    ("GET", "/supervisor/clearances/{clearance_id}.pdf"): page(404),
    ("GET", "/supervisor/exports"): page(),
    ("GET", "/supervisor/cash"): page(),
    ("POST", "/supervisor/cash/handovers/{handover_id}/confirm"): page(
        404, sample=lambda _: {"data": {"amount": "1000"}}
    ),
    ("POST", "/supervisor/cash/handovers/{handover_id}/reject"): page(
        404, sample=lambda _: {"data": {"note": "no aparece"}}
    ),
    ("GET", "/supervisor/exports/weekly-visits.xlsx"): page(),
    ("GET", "/supervisor/exports/weekly-management.{fmt}"): page(),
    ("GET", "/supervisor/exports/kpis.xlsx"): page(
        sample=lambda _: {"params": {"from": "2026-11-01", "to": "2026-11-30"}}
    ),
    ("GET", "/supervisor/exports/commissions.{fmt}"): page(
        sample=lambda _: {"params": {"from": "2026-11-01", "to": "2026-11-30"}}
    ),
    ("GET", "/supervisor/disputes"): page(),
    ("POST", "/supervisor/disputes"): page(
        404, sample=lambda _: {"data": {"client_code": "C-NO-SUCH"}}
    ),
    ("POST", "/supervisor/disputes/{dispute_id}/accept"): page(404),
    ("POST", "/supervisor/disputes/{dispute_id}/reject"): page(
        404, sample=lambda _: {"data": {"note": "sin soporte"}}
    ),
    ("GET", "/supervisor/reconciliations"): page(),
    ("POST", "/supervisor/reconciliations"): page(
        404, sample=lambda _: {"data": {"client_code": "C-NO-SUCH", "scheduled_for": "2026-12-01"}}
    ),
    ("GET", "/supervisor/reconciliations/{reconciliation_id}"): page(404),
    ("POST", "/supervisor/reconciliations/{reconciliation_id}/complete"): page(
        404, sample=lambda _: {"data": {"as_of": "2026-11-01", "client_balance": "0"}}
    ),
    ("GET", "/supervisor/reconciliations/{reconciliation_id}/export.{fmt}"): page(404),
    ("POST", "/v1/sync/push"): Access(
        COLLECTOR,
        token="device",
        sample=lambda w: {
            "json": {"protocol": 1, "device_id": w.own_device, "app_version": "1.0.0", "events": []}
        },
    ),
    ("GET", "/v1/sync/pull"): Access(
        COLLECTOR, token="device", sample=lambda _: {"params": {"cursor": "", "limit": 10}}
    ),
}


def api_routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """Every (method, path) the app serves through FastAPI routes. FastAPI 0.165 wraps included
    routers (`_IncludedRouter`), so walk them the way the OpenAPI generator does."""
    found: dict[tuple[str, str], APIRoute] = {}
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute) and ctx.path is not None:
            for method in ctx.methods or ():
                found[(method, ctx.path)] = route
    return found


def _table_app() -> FastAPI:
    return create_app(Settings(environment="test", database_url="sqlite://", signing_key="x" * 40))


APP_ROUTES = sorted(api_routes(_table_app()))
DECLARED_AND_PRESENT = [key for key in APP_ROUTES if key in ROUTES]
CLIENT_ROUTES = [key for key in DECLARED_AND_PRESENT if "{client_id}" in key[1]]
FILTERED = [key for key in DECLARED_AND_PRESENT if ROUTES[key].filtered_by]


def _id(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"


# --- the table itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", APP_ROUTES, ids=_id)
def test_every_route_is_declared(key: tuple[str, str]) -> None:
    assert key in ROUTES, (
        f"{_id(key)} is not declared in tests/server/test_access_matrix.py ROUTES: "
        "declare which roles may call it"
    )


def test_declared_routes_that_do_not_exist_yet_only_warn() -> None:
    missing = sorted(set(ROUTES) - set(APP_ROUTES))
    if missing:
        warnings.warn(
            f"declared but not served (yet): {', '.join(map(_id, missing))}", stacklevel=1
        )
    assert set(DECLARED_AND_PRESENT) <= set(ROUTES)


def test_the_walk_finds_every_documented_operation() -> None:
    """The enumeration must not miss what the OpenAPI document shows."""
    documented = {
        (method.upper(), path)
        for path, operations in _table_app().openapi()["paths"].items()
        for method in operations
    }
    assert documented <= set(APP_ROUTES)
    assert ("GET", "/v1/me") in documented


def test_only_the_login_is_public_under_v1() -> None:
    public = {key for key, access in ROUTES.items() if access.anonymous != 401}
    assert {key for key in public if key[1].startswith("/v1/")} == PUBLIC_V1


# --- the matrix ---------------------------------------------------------------------------------


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for the whole matrix


@pytest.fixture
def world(
    client: TestClient, session: Session, settings: Settings, make_client: MakeClient
) -> World:
    users = {
        who: User(
            username=f"{who}-{uuid.uuid4().hex[:8]}",
            role="collector" if who == "other" else who,
            password_hash=_password_hash(),
        )
        for who in (*ROLES, "other")
    }
    session.add_all(users.values())
    session.commit()
    tokens = {
        who: issue_access_token(user.id, user.role, settings.signing_key, timedelta(hours=1))
        for who, user in users.items()
    }
    own = make_client(collector=users["collector"])
    other = make_client(collector=users["other"])
    devices = {}
    for who in ("collector", "other"):
        response = client.post(
            "/v1/devices",
            json={"name": f"phone of {who}", "install_nonce": f"matrix-{who}"},
            headers={"Authorization": f"Bearer {tokens[who]}"},
        )
        assert response.status_code == 201, response.text
        devices[who] = response.json()
    tokens["device"] = devices["collector"]["device_token"]
    return World(
        tokens=tokens,
        usernames={who: user.username for who, user in users.items()},
        password=PASSWORD,
        own_client=str(own.id),
        other_client=str(other.id),
        own_device=devices["collector"]["device_id"],
        other_device=devices["other"]["device_id"],
        signing_key=settings.signing_key,
    )


def call(
    client: TestClient,
    key: tuple[str, str],
    world: World,
    caller: str | None,
    *,
    client_id: str | None = None,
) -> Any:
    method, path = key
    values = world.path_values(client_id or world.own_client)
    try:
        url = path.format(**values)
    except KeyError as exc:
        pytest.fail(f"{_id(key)}: add a sample value for {exc} to World.path_values")
    access = ROUTES[key]
    sample = access.sample(world)
    cookies: dict[str, str] = sample.pop("cookies", {})
    headers: dict[str, str] = {}
    if caller and access.auth == "bearer":
        headers["Authorization"] = f"Bearer {world.tokens[caller]}"
    elif caller:  # a page: the session cookie, and the form token of that session on a POST
        token = world.tokens[caller]
        cookies[SESSION_COOKIE] = token
        if method == "POST" and access.auth == "cookie":
            sample["data"] = {
                **sample.get("data", {}),
                "csrf": csrf_token(token, world.signing_key),
            }
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return client.request(method, url, headers=headers, follow_redirects=False, **sample)


def expected(access: Access, caller: str) -> tuple[frozenset[int], str | None]:
    """The statuses (and error code) `caller` must get for the sample request; pages answer
    HTML, so no error code is checked for them."""
    is_device = caller == "device"
    if access.auth == "public":
        return access.ok, None
    if access.auth == "cookie":
        if is_device:
            return frozenset({303}), None  # a device token is no session: to the login page
        return (access.ok if caller in access.roles else frozenset({403})), None
    if access.token == "user" and is_device:
        return frozenset({401}), "user_token_required"
    if access.token == "device" and not is_device:
        return frozenset({401}), "device_token_required"
    role = "collector" if is_device else caller
    if role in access.roles:
        return access.ok, None
    return frozenset({403}), "insufficient_role"


@pytest.mark.parametrize("key", DECLARED_AND_PRESENT, ids=_id)
def test_without_a_token(client: TestClient, world: World, key: tuple[str, str]) -> None:
    response = call(client, key, world, None)
    assert response.status_code == ROUTES[key].anonymous, response.text
    if response.status_code == 401:
        assert response.json()["error"]["code"] == "not_authenticated"
    if ROUTES[key].auth == "cookie":
        assert response.headers["location"].startswith("/supervisor/login")


@pytest.mark.parametrize("key", DECLARED_AND_PRESENT, ids=_id)
def test_who_may_call(client: TestClient, world: World, key: tuple[str, str]) -> None:
    # Callers in one test (not parametrized) because the world costs more than the calls.
    # The device goes last: an admin revoking it is part of the matrix.
    for caller in ("device", *ROLES):
        statuses, code = expected(ROUTES[key], caller)
        response = call(client, key, world, caller)
        assert response.status_code in statuses, f"{caller} on {_id(key)}: {response.text}"
        if code is not None:
            assert response.json()["error"]["code"] == code, f"{caller} on {_id(key)}"


@pytest.mark.parametrize("key", CLIENT_ROUTES, ids=_id)
def test_a_collector_cannot_reach_another_collectors_client(
    client: TestClient, world: World, key: tuple[str, str]
) -> None:
    access = ROUTES[key]
    for caller in ("collector", "device"):
        response = call(client, key, world, caller, client_id=world.other_client)
        if access.auth == "cookie":
            assert response.status_code == (303 if caller == "device" else 403), response.text
        elif access.token == "user" and caller == "device":
            assert response.status_code == 401, response.text
        elif "collector" in access.roles:
            assert response.status_code == 404, f"{caller}: {response.text}"
            assert response.json()["error"]["code"] == "client_not_found"
        else:
            assert response.status_code in {403, 404}, f"{caller}: {response.text}"


@pytest.mark.parametrize("key", CLIENT_ROUTES, ids=_id)
def test_the_office_reaches_every_client(
    client: TestClient, world: World, key: tuple[str, str]
) -> None:
    for caller in OFFICE & ROUTES[key].roles:
        response = call(client, key, world, caller, client_id=world.other_client)
        assert response.status_code in ROUTES[key].ok, response.text


@pytest.mark.parametrize("key", FILTERED, ids=_id)
def test_lists_show_a_collector_only_their_own(
    client: TestClient, world: World, key: tuple[str, str]
) -> None:
    kind = ROUTES[key].filtered_by
    own, other = (
        (world.own_client, world.other_client)
        if kind == "client"
        else (world.own_device, world.other_device)
    )
    for caller in CALLERS:
        response = call(client, key, world, caller)
        assert response.status_code == 200, response.text
        seen = (own in response.text, other in response.text)
        assert seen == (True, caller in OFFICE), f"{caller} on {_id(key)}"
