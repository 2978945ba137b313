"""Dependencies of the supervisor's pages: the database session, settings and clock (the same
ones the API uses, kept here because `server.web` and `server.api` are independent layers), and
who is logged in, read from the session cookie."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session, sessionmaker

from server.services import auth
from server.services.access import Actor
from server.services.security import DEVICE_TOKEN_PREFIX, Clock, system_clock
from server.settings import Settings
from server.web.cookies import SESSION_COOKIE, csrf_matches
from shared.errors import Forbidden, Unauthenticated


class LoginRequired(Unauthenticated):
    """No valid session cookie: a page answers 303 to the login form (server/web/routing.py)."""

    code = "login_required"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session  # pages commit before returning; anything uncommitted is rolled back


def get_clock() -> Clock:
    return system_clock


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]


def session_token(request: Request) -> str:
    token = request.cookies.get(SESSION_COOKIE, "")
    # A device token never opens the office pages, even pasted into a cookie.
    if not token or token.startswith(DEVICE_TOKEN_PREFIX):
        raise LoginRequired("inicie sesión")
    return token


def get_page_actor(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Actor:
    """The office user behind the session cookie. No cookie, or an expired or revoked one: log
    in again. A collector gets 403: collectors work on the phone."""
    token = session_token(request)
    try:
        actor = auth.resolve_bearer(
            session, token, signing_key=settings.signing_key, now=clock()
        ).actor
    except Unauthenticated as exc:
        raise LoginRequired(exc.message) from exc
    finally:
        session.commit()  # never leave a read transaction open (SQLite's write lock, see api)
    if not actor.is_office:
        raise Forbidden(
            "Estas páginas son para supervisores; los gestores usan la aplicación del celular.",
            code="insufficient_role",
        )
    return actor


PageActor = Annotated[Actor, Depends(get_page_actor)]


def check_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    """Every form POST of a logged-in page carries the token derived from its session."""
    token = session_token(request)
    settings: Settings = request.app.state.settings
    if not csrf_matches(csrf, token, settings.signing_key):
        raise Forbidden(
            "El formulario venció o no es de esta sesión; vuelva a cargar la página.",
            code="csrf_mismatch",
        )


CsrfChecked = Annotated[None, Depends(check_csrf)]
