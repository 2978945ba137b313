"""Cash in hand (`/supervisor/cash`): what each collector still holds with the oldest payment's
age (highlighted past `cash.STALE_DAYS`), and the pending handovers to confirm against the bank
or the till, or to reject with a note (server/services/cash.py)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from server.services import cash
from server.web import labels
from server.web.deps import ClockDep, CsrfChecked, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import business_date
from shared.parsing import parse_amount

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)

DONE = {"confirmed": "confirmada", "rejected": "rechazada"}


@router.get("/cash")
def cash_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    done: str | None = None,
) -> Response:
    today = business_date(clock(), settings.tz)
    holding = cash.in_hand(session, actor, today=today, tz=settings.tz)
    pending = cash.list_handovers(session, actor, status="pending")
    session.commit()
    return render(
        request,
        "cash.html",
        {
            "holding": holding,
            "pending": pending,
            "stale_days": cash.STALE_DAYS,
            "done": DONE.get(done or ""),
            "labels": labels,
        },
        actor=actor,
    )


@router.post("/cash/handovers/{handover_id}/confirm")
def confirm_handover(
    handover_id: uuid.UUID,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    clock: ClockDep,
    amount: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=cash.MAX_NOTE)] = "",
) -> Response:
    cash.confirm(session, actor, handover_id, amount=_amount(amount), note=note, now=clock())
    session.commit()
    return RedirectResponse("/supervisor/cash?done=confirmed", status_code=303)


@router.post("/cash/handovers/{handover_id}/reject")
def reject_handover(
    handover_id: uuid.UUID,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    clock: ClockDep,
    note: Annotated[str, Form(max_length=cash.MAX_NOTE)] = "",
) -> Response:
    cash.reject(session, actor, handover_id, note=note, now=clock())
    session.commit()
    return RedirectResponse("/supervisor/cash?done=rejected", status_code=303)


def _amount(text: str) -> Decimal:
    """The amount the supervisor read in the bank, as typed ("150.000", "150000,50")."""
    return parse_amount(text.strip())
