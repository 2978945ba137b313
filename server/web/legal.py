"""Cobro jurídico for the supervisor: the open and closed cases with their history and an update
form, the clients the rules suggest referring (with a "Remitir" form), and the law firms."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from server.repositories.ledger import client_by_code
from server.services import legal
from server.web import labels
from server.web.deps import ClockDep, CsrfChecked, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.errors import NotFound

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)

STATUS_LABELS = {"referred": "Remitido", "in_progress": "En curso", "closed": "Cerrado"}
OUTCOME_LABELS = {
    "recovered": "Recuperado",
    "agreement": "Acuerdo de pago",
    "negative": "Negativo",
}
PAGE = 200
MAX_SUGGESTED = 30  # the oldest debts first; the API lists them all


@router.get("/legal")
def legal_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    status: Annotated[str, Query(pattern="^(|open|referred|in_progress|closed)$")] = "open",
    done: Annotated[str, Query(max_length=120)] = "",
) -> Response:
    now = clock()
    cases = legal.list_referrals(
        session, actor, status=status or None, limit=PAGE, with_history=True
    )
    firms = legal.list_firms(session, actor)
    suggestions = legal.suggested_by_settings(session, actor, settings, now)
    session.commit()
    return render(
        request,
        "legal.html",
        {
            "cases": cases,
            "status": status,
            "firms": firms,
            "active_firms": [f for f in firms if f.active],
            "suggested": suggestions,
            "max_suggested": MAX_SUGGESTED,
            "statuses": STATUS_LABELS,
            "outcomes": OUTCOME_LABELS,
            "labels": labels,
            "done": done,
        },
        actor=actor,
    )


def _back(done: str, anchor: str = "") -> RedirectResponse:
    query = urlencode({"done": done})
    return RedirectResponse(f"/supervisor/legal?{query}{anchor}", status_code=303)


@router.post("/legal/referrals")
def refer_client(
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    clock: ClockDep,
    law_firm_id: Annotated[uuid.UUID, Form()],
    client_id: Annotated[uuid.UUID | None, Form()] = None,
    client_code: Annotated[str, Form(max_length=64)] = "",
    invoices: Annotated[str, Form(max_length=4000)] = "",
    reason: Annotated[str, Form(max_length=legal.MAX_NOTE)] = "",
) -> Response:
    """Refer a suggested client (by id) or any client by its code, whole or some invoices (their
    numbers separated by commas or spaces)."""
    if client_id is None:
        client = client_by_code(session, client_code.strip())
        if client is None:
            raise NotFound(
                f"No hay un cliente con el código {client_code!r}.", code="client_not_found"
            )
        client_id = client.id
    referral = legal.refer(
        session,
        actor,
        client_id,
        law_firm_id=law_firm_id,
        reason=reason,
        invoice_numbers=invoices.replace(",", " ").split(),
        now=clock(),
    )
    session.commit()
    return _back(f"{referral.client_code} remitido a {referral.law_firm}", f"#case-{referral.id}")


@router.post("/legal/referrals/{referral_id}/updates")
def update_referral(
    referral_id: uuid.UUID,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    clock: ClockDep,
    status: Annotated[str, Form(max_length=16)] = "",
    outcome: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=legal.MAX_NOTE)] = "",
) -> Response:
    referral = legal.add_update(
        session,
        actor,
        referral_id,
        status=status,
        outcome=outcome or None,
        note=note,
        now=clock(),
    )
    session.commit()
    return _back(f"Caso de {referral.client_code} actualizado", f"#case-{referral.id}")


@router.post("/legal/firms")
def create_firm(
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    tax_id: Annotated[str, Form(max_length=32)] = "",
    contact_name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=200)] = "",
    phone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    firm = legal.create_firm(
        session,
        actor,
        {
            "name": name,
            "tax_id": tax_id,
            "contact_name": contact_name,
            "email": email,
            "phone": phone,
        },
    )
    session.commit()
    return _back(f"Firma {firm.name} agregada", "#firms")


@router.post("/legal/firms/{firm_id}/active")
def set_firm_active(
    firm_id: uuid.UUID,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    active: Annotated[bool, Form()] = False,
) -> Response:
    firm = legal.update_firm(session, actor, firm_id, {"active": active})
    session.commit()
    return _back(f"Firma {firm.name} {'activada' if firm.active else 'desactivada'}", "#firms")
