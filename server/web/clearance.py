"""Paz y salvo from the client's page: issue it (the button on the statement page), see it, and
download its PDF."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from server.services import clearance
from server.services.download_names import attachment
from server.web.deps import ClockDep, CsrfChecked, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import business_date

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)
# `/clearances/{id}.pdf` is declared before `/clearances/{id}`, whose parameter would take it.


@router.post("/clients/{client_id}/clearance")
def issue_clearance(
    client_id: uuid.UUID,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    as_of: Annotated[date | None, Form()] = None,
) -> Response:
    now = clock()
    today = business_date(now, settings.tz)
    cert = clearance.issue(
        session,
        actor,
        client_id,
        as_of=as_of or today,
        today=today,
        now=now,
        signing_key=settings.signing_key,
    )
    session.commit()
    return RedirectResponse(f"/supervisor/clearances/{cert.id}", status_code=303)


@router.get("/clearances/{clearance_id}.pdf")
def clearance_file(
    request: Request, clearance_id: uuid.UUID, actor: PageActor, session: SessionDep,
    settings: SettingsDep,
) -> Response:  # fmt: skip
    cert = clearance.get(session, actor, clearance_id)
    session.commit()
    body = clearance.certificate_pdf(cert, settings, str(request.base_url))
    name = clearance.pdf_filename(cert) + ".pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": attachment(name)},
    )


@router.get("/clearances/{clearance_id}")
def clearance_page(
    request: Request, clearance_id: uuid.UUID, actor: PageActor, session: SessionDep,
    settings: SettingsDep,
) -> Response:  # fmt: skip
    cert = clearance.get(session, actor, clearance_id)
    session.commit()
    link = clearance.verify_url(settings.public_url, str(request.base_url), cert.code)
    return render(request, "clearance.html", {"c": cert, "verify_url": link}, actor=actor)
