"""The public page a paz y salvo's printed link opens (`/verificar/{code}`): no login, the least
a third party needs (valid, client name, NIT, date), or "no válido"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from server.services import clearance
from server.web.deps import SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get(clearance.VERIFY_PATH + "{code}")
def verify_page(
    request: Request,
    code: Annotated[str, Path(max_length=64)],
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    host = request.client.host if request.client else ""
    clearance.verify_limiter(request.app.state).check(host)
    result = clearance.verify(session, code, signing_key=settings.signing_key)
    session.commit()
    return render(
        request,
        "verify.html",
        {"v": result, "company": settings.company_name},
        status_code=200 if result.valid else 404,
    )
