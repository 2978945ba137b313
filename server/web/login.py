"""Logging in to the supervisor's pages and out again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from server.services import auth
from server.services.access import OFFICE_ROLES
from server.web.cookies import COOKIE_PATH, LOGIN_COOKIE, SESSION_COOKIE, new_login_nonce
from server.web.deps import ClockDep, CsrfChecked, PageActor, SessionDep, SettingsDep
from server.web.routing import LOGIN_PATH, PageRoute
from server.web.templating import render
from shared.errors import DomainError, Forbidden, RateLimited

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)
HOME = "/supervisor/"


def safe_next(target: str | None) -> str:
    """Only a path of these pages: never another site (`//evil`, `https://...`)."""
    if target and target.startswith("/supervisor/") and not target.startswith("//"):
        return target
    return HOME


def _form(
    request: Request, *, next_url: str, username: str = "", error: str = "", status: int = 200
) -> Response:
    nonce = new_login_nonce()
    response = render(
        request,
        "login.html",
        {"next": next_url, "username": username, "error": error, "nonce": nonce},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=30 * 60,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _form(request, next_url=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    nonce: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = HOME,
) -> Response:
    target = safe_next(next)
    sent = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or nonce != sent:
        return _form(
            request,
            next_url=target,
            username=username,
            error="El formulario venció; vuelva a escribir la contraseña.",
            status=403,
        )
    try:
        issued = auth.login(
            session,
            username=username,
            password=password,
            remote_addr=request.client.host if request.client else "",
            settings=settings,
            now=clock(),
        )
    except DomainError as exc:
        session.commit()  # the failure row must outlive this answer, or throttling never trips
        status = 429 if isinstance(exc, RateLimited) else 401
        return _form(request, next_url=target, username=username, error=exc.message, status=status)
    session.commit()
    if issued.user.role not in OFFICE_ROLES:
        raise Forbidden(
            "Estas páginas son para supervisores; los gestores usan la aplicación del celular.",
            code="insufficient_role",
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.access_token,
        max_age=issued.expires_in,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/logout")
def logout(_: CsrfChecked, actor: PageActor) -> Response:
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response
