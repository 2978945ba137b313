"""The review queue: held payments and events, flagged visits and conflicts, each with the
decisions its kind allows (server/services/review.py); money parked in suspense can be posted to
the right client by code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from server.repositories.ledger import client_by_code
from server.services import agreements, review
from server.web import labels
from server.web.deps import ClockDep, CsrfChecked, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import business_date
from shared.errors import NotFound

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)

KIND_LABELS = {
    "held_event": "Evento retenido",
    "flagged_visit": "Visita marcada",
    "conflict": "Conflicto",
}
RESOLUTION_LABELS = {
    "accepted": "Aceptar como quedó",
    "followed_up": "Gestionado por fuera",
    "acknowledged": "Enterado: vale el primer envío",
    "justified": "Justificada",
    "not_justified": "No justificada",
    "posted_to_client": "Abonado al cliente",
}


@router.get("/review")
def review_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    kind: str | None = None,
    status: str = "open",
    done: int | None = None,
) -> Response:
    page = review.list_items(
        session, actor, kind=kind or None, status=None if status == "all" else status, limit=200
    )
    # Broken payment agreements are worked on their own page; the queue points there.
    broken = agreements.list_agreements(
        session,
        actor,
        tz=settings.tz,
        as_of=business_date(clock(), settings.tz),
        statuses=["active"],
        standing="broken",
        limit=1,
    ).total
    session.commit()
    return render(
        request,
        "review.html",
        {
            "page": page,
            "kind": kind or "",
            "status": status,
            "done": done,
            "broken_agreements": broken,
            "kinds": KIND_LABELS,
            "resolutions": RESOLUTION_LABELS,
            "labels": labels,
        },
        actor=actor,
    )


def _back(request: Request, done: int) -> RedirectResponse:
    return RedirectResponse(f"/supervisor/review?done={done}", status_code=303)


@router.post("/review/{item_id}/resolve")
def resolve_item(
    request: Request,
    item_id: int,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    clock: ClockDep,
    resolution: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=review.MAX_NOTE)] = "",
) -> Response:
    review.resolve(session, actor, item_id, resolution=resolution, note=note, now=clock())
    session.commit()
    return _back(request, item_id)


@router.post("/review/{item_id}/post-to-client")
def post_item_to_client(
    request: Request,
    item_id: int,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    client_code: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=review.MAX_NOTE)] = "",
) -> Response:
    client = client_by_code(session, client_code.strip())
    if client is None:
        raise NotFound(f"No hay un cliente con el código {client_code!r}.", code="client_not_found")
    now = clock()
    review.post_to_client(
        session,
        actor,
        item_id,
        client_id=client.id,
        note=note,
        today=business_date(now, settings.tz),
        now=now,
    )
    session.commit()
    return _back(request, item_id)
