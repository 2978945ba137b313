"""The one table from domain errors to HTTP, and handlers that keep every error in the
`{"error": {"code", "message", "details"}}` shape: never a stack trace, never a 500 for bad input.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from server.db.engine import database_unavailable
from shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthenticated,
)
from sync.errors import UpgradeRequired

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_S = 2

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    TooLarge: 413,
    RateLimited: 429,
    UpgradeRequired: 426,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    426: "upgrade_required",
    429: "too_many_requests",
}


class ErrorDetail(BaseModel):
    code: str  # stable, for programs: `client_not_found`, `invalid_input`, ...
    message: str  # for people
    details: Any = None


class ErrorEnvelope(BaseModel):
    """Every error answer, whatever its status."""

    error: ErrorDetail


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}


def status_for(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        headers: dict[str, str] = {}
        if isinstance(exc, Unauthenticated):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after_s)
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_for(exc), headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse(error_body("invalid_input", "the request is not valid", details), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return JSONResponse(error_body(code, message), exc.status_code, headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(error_body("internal_error", "an unexpected error occurred"), 500)

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        # PostgreSQL restarting or down: retrying the same request is the remedy (a push whose
        # commit did land answers `duplicate` the second time), so say 503, not 500.
        if not database_unavailable(exc):
            raise exc  # any other database error: the catch-all's 500, as before
        log.warning("database unavailable: %s", exc.orig)
        body = error_body("database_unavailable", "the database is not available; retry shortly")
        return JSONResponse(body, 503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)})

    @app.exception_handler(PoolTimeout)
    async def _busy(_: Request, exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection stayed busy for the pool's timeout: more requests at once than
        # the server serves (the 500-phone soak's evening bursts on a starved machine hit it).
        # Nothing was done, so the same request later is the remedy: 503, not 500.
        log.warning("database pool exhausted: %s", exc)
        body = error_body("server_busy", "the server is busy; retry shortly")
        return JSONResponse(body, 503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)})


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Starlette's 405 names only the first
    matching route's methods, and FastAPI makes one route per method (GET and POST on
    /v1/devices are two routes), so its `Allow` would leave methods out."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches({**request.scope, "method": "GET"})
            if match is not Match.NONE:
                methods |= route.methods
    return sorted(methods)
