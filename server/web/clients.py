"""Clients: search, reassign to another collector, and a client's statement (print and PDF)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from server.repositories import field_activity
from server.services import clients, statements
from server.services.download_names import attachment
from server.services.statement_pdf import statement_pdf
from server.web import labels
from server.web.deps import ClockDep, CsrfChecked, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import business_date

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)
PAGE = 50


@router.get("/clients")
def clients_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    q: Annotated[str, Query(max_length=100)] = "",
    collector: Annotated[str, Query(max_length=64)] = "",
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    done: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    found = clients.list_clients(
        session,
        actor,
        today=business_date(clock(), settings.tz),
        edges=settings.aging_edges,
        collector=collector or None,
        q=q or None,
        limit=PAGE,
        offset=offset,
    )
    team = [u.username for u in field_activity.collectors(session)]
    session.commit()
    query = {"q": q, "collector": collector}
    return render(
        request,
        "clients.html",
        {
            "page": found,
            "q": q,
            "collector": collector,
            "collectors": team,
            "done": done,
            "labels": labels,
            "here": "/supervisor/clients?" + urlencode({**query, "offset": offset}),
            "previous": "/supervisor/clients?" + urlencode({**query, "offset": offset - PAGE})
            if offset > 0
            else None,
            "next": "/supervisor/clients?" + urlencode({**query, "offset": offset + PAGE})
            if offset + PAGE < found.total
            else None,
        },
        actor=actor,
    )


def _back_to(target: str) -> str:
    return target if target.startswith("/supervisor/clients") else "/supervisor/clients"


@router.post("/clients/{client_id}/assignment")
def reassign(
    client_id: uuid.UUID,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    collector: Annotated[str, Form(max_length=64)] = "",
    back: Annotated[str, Form(max_length=500)] = "/supervisor/clients",
) -> Response:
    detail = clients.assign_collector(
        session,
        actor,
        client_id,
        collector=collector or None,
        today=business_date(clock(), settings.tz),
        edges=settings.aging_edges,
    )
    session.commit()
    target = _back_to(back)
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}{urlencode({'done': detail.code})}", status_code=303)


@router.get("/clients/{client_id}/statement")
def statement_page(
    request: Request,
    client_id: uuid.UUID,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    as_of: date | None = None,
) -> Response:
    day = as_of or business_date(clock(), settings.tz)
    statement = statements.client_statement(
        session, actor, client_id, as_of=day, edges=settings.aging_edges
    )
    session.commit()
    return render(
        request,
        "statement.html",
        {"s": statement, "labels": labels, "as_of": day},
        actor=actor,
    )


@router.get("/clients/{client_id}/statement.pdf")
def statement_file(
    client_id: uuid.UUID,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    as_of: date | None = None,
) -> Response:
    now = clock()
    day = as_of or business_date(now, settings.tz)
    statement = statements.client_statement(
        session, actor, client_id, as_of=day, edges=settings.aging_edges
    )
    session.commit()
    body = statement_pdf(
        statement,
        generated_at=now,
        tz=settings.tz,
        currency=settings.currency,
        locale=settings.locale,
    )
    name = f"estado-de-cuenta-{statement.client.code}-{day.isoformat()}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": attachment(name)},
    )
