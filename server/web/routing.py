"""Pages answer in HTML, errors included: no session sends the browser to the login form (303),
a domain error renders an error page with its status (403 for a collector, 404, 422...), and a
malformed query parameter is a 422 page, never the API's JSON."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from server.web.deps import LoginRequired
from server.web.templating import render
from shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
)

LOGIN_PATH = "/supervisor/login"

_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (RateLimited, 429),
)


def login_redirect(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = LOGIN_PATH if request.method != "GET" else f"{LOGIN_PATH}?next={quote(here)}"
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, exc: DomainError) -> Response:
    status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)
    return render(
        request,
        "error.html",
        {"status": status, "message": exc.message, "code": exc.code},
        status_code=status,
    )


class PageRoute(APIRoute):
    """An APIRoute whose errors are pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return login_redirect(request)
            except DomainError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                fields = ", ".join(str(e["loc"][-1]) for e in exc.errors())
                bad = InvalidInput(f"Parámetro no válido: {fields}.", code="invalid_input")
                return error_page(request, bad)

        return page_handler
