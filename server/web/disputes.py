"""Disputes (glosas y devoluciones): the open ones oldest first, each accepted (all or part: a
credit note) or rejected with a note; opening one for a client's invoice; and the aging of the
portfolio with the disputed amounts apart (server/services/disputes.py, aging.py)."""

from __future__ import annotations

import uuid
from typing import Annotated, Final

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from server.repositories.ledger import client_by_code
from server.services import aging, disputes
from server.web import labels
from server.web.deps import ClockDep, CsrfChecked, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import business_date
from shared.errors import NotFound
from shared.parsing import parse_amount

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)

STATUS_LABELS: Final = {"open": "Abiertas", "accepted": "Aceptadas", "rejected": "Rechazadas"}
STATE: Final = {"open": "abierta", "accepted": "aceptada", "rejected": "rechazada"}


@router.get("/disputes")
def disputes_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    status: str = "open",
    done: str = "",
) -> Response:
    page = disputes.list_disputes(
        session, actor, status=None if status == "all" else status, limit=200
    )
    today = business_date(clock(), settings.tz)
    report = aging.portfolio_aging(
        session, actor, as_of=today, edges=settings.aging_edges, tz=settings.tz
    )
    session.commit()
    return render(
        request,
        "disputes.html",
        {
            "page": page,
            "status": status,
            "statuses": STATUS_LABELS,
            "state": STATE,
            "done": done,
            "aging": report,
            "today": today,
            "labels": labels,
        },
        actor=actor,
    )


def _back(done: str) -> RedirectResponse:
    return RedirectResponse(f"/supervisor/disputes?done={done}", status_code=303)


@router.post("/disputes")
def open_dispute(
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    clock: ClockDep,
    client_code: Annotated[str, Form(max_length=64)] = "",
    invoice_number: Annotated[str, Form(max_length=64)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    kind: Annotated[str, Form(max_length=8)] = "dispute",
    reason_code: Annotated[str, Form(max_length=32)] = "",
    notes: Annotated[str, Form(max_length=disputes.MAX_NOTE)] = "",
) -> Response:
    client = client_by_code(session, client_code.strip())
    if client is None:
        raise NotFound(f"No hay un cliente con el código {client_code!r}.", code="client_not_found")
    disputes.open_dispute(
        session,
        actor,
        client.id,
        invoice_number=invoice_number,
        amount=parse_amount(amount),
        kind=kind,
        reason_code=reason_code,
        notes=notes,
        now=clock(),
    )
    session.commit()
    return _back("opened")


@router.post("/disputes/{dispute_id}/accept")
def accept_dispute(
    dispute_id: uuid.UUID,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    accepted_amount: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=disputes.MAX_NOTE)] = "",
) -> Response:
    now = clock()
    disputes.accept(
        session,
        actor,
        dispute_id,
        accepted_amount=parse_amount(accepted_amount) if accepted_amount.strip() else None,
        note=note,
        today=business_date(now, settings.tz),
        now=now,
    )
    session.commit()
    return _back("accepted")


@router.post("/disputes/{dispute_id}/reject")
def reject_dispute(
    dispute_id: uuid.UUID,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    clock: ClockDep,
    note: Annotated[str, Form(max_length=disputes.MAX_NOTE)] = "",
) -> Response:
    disputes.reject(session, actor, dispute_id, note=note, now=clock())
    session.commit()
    return _back("rejected")
