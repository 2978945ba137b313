"""Payment agreements (acuerdos de pago) for the supervisor: proposals from the phones to approve
or reject first, then broken agreements, then those on track; a form to create one for a client
(from the client's statement or by code). Over server/services/agreements.py, like the API."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from server.repositories import agreements as agreements_repo
from server.repositories.ledger import client_by_code
from server.services import agreements
from server.services.agreements import MAX_NOTE
from server.web import labels
from server.web.deps import ClockDep, CsrfChecked, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import business_date
from shared.errors import DomainError, InvalidInput, NotFound
from shared.parsing import is_blank, parse_amount, parse_date

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)

FORM_ROWS: Final = 6  # installment rows the form shows; `?rows=` asks for more
MAX_FORM_ROWS: Final = 60
STATUS_FILTERS: Final = {
    "open": ("proposed", "active"),
    "closed": ("rejected", "cancelled"),
    "all": None,
}


@router.get("/agreements")
def agreements_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    status: str = "open",
    standing: str = "",
    collector: str = "",
    done: str = "",
) -> Response:
    today = business_date(clock(), settings.tz)
    page = agreements.list_agreements(
        session,
        actor,
        tz=settings.tz,
        as_of=today,
        statuses=STATUS_FILTERS.get(status, STATUS_FILTERS["open"]),
        standing=standing or None,
        collector=collector.strip() or None,
        limit=agreements.MAX_PAGE,
    )
    session.commit()
    groups: dict[str, list[agreements.AgreementView]] = {}
    for item in page.items:
        groups.setdefault(item.standing or item.status, []).append(item)
    return render(
        request,
        "agreements.html",
        {
            "page": page,
            "groups": groups,
            "status": status,
            "standing": standing,
            "collector": collector,
            "done": done,
            "labels": labels,
        },
        actor=actor,
    )


@router.get("/agreements/new")
def new_agreement_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    client_id: uuid.UUID | None = None,
    rows: int = FORM_ROWS,
) -> Response:
    code = agreements_repo.client_code(session, client_id) if client_id else None
    session.commit()
    return _form(request, actor, {"client_code": code or ""}, rows=rows)


def _form(
    request: Request,
    actor: Any,
    values: dict[str, Any],
    *,
    rows: int = FORM_ROWS,
    error: str = "",
    status_code: int = 200,
) -> Response:
    dues: list[str] = values.get("due", [])
    amounts: list[str] = values.get("amount", [])
    count = max(1, min(max(rows, len(dues)), MAX_FORM_ROWS))
    lines = [
        (dues[n] if n < len(dues) else "", amounts[n] if n < len(amounts) else "")
        for n in range(count)
    ]
    return render(
        request,
        "agreements.html",
        {"form": True, "values": values, "lines": lines, "error": error, "labels": labels},
        actor=actor,
        status_code=status_code,
    )


def _schedule(dues: list[str], amounts: list[str]) -> list[tuple[date, Decimal]]:
    """The rows the supervisor filled in (blank rows skipped), in the order given."""
    schedule = []
    for n, (due, amount) in enumerate(zip(dues, amounts, strict=False), start=1):
        if is_blank(due) and is_blank(amount):
            continue
        try:
            schedule.append((parse_date(due), parse_amount(amount)))
        except InvalidInput as exc:
            raise InvalidInput(f"Cuota {n}: {exc.message}", code="agreement_invalid") from exc
    if not schedule:
        raise InvalidInput("Escriba al menos una cuota (fecha y valor).", code="agreement_invalid")
    return schedule


@router.post("/agreements/new")
def create_agreement(
    request: Request,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    client_code: Annotated[str, Form(max_length=64)] = "",
    notes: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    due: Annotated[list[str], Form(max_length=MAX_FORM_ROWS)] = [],  # noqa: B006 - FastAPI copies
    amount: Annotated[list[str], Form(max_length=MAX_FORM_ROWS)] = [],  # noqa: B006
) -> Response:
    values = {"client_code": client_code, "notes": notes, "due": due, "amount": amount}
    try:
        client = client_by_code(session, client_code.strip())
        if client is None:
            raise NotFound(
                f"No hay un cliente con el código {client_code!r}.", code="client_not_found"
            )
        view = agreements.create(
            session,
            actor,
            client.id,
            installments=_schedule(due, amount),
            notes=notes,
            now=clock(),
            tz=settings.tz,
        )
    except DomainError as exc:
        session.rollback()
        return _form(request, actor, values, error=_spanish(exc), status_code=422)
    session.commit()
    return _back(view.id, "creado")


_MESSAGES: Final = {
    "agreement_already_active": "El cliente ya tiene un acuerdo activo: cancélelo primero.",
    "client_closed": "El cliente está cerrado.",
    "note_required": "Para rechazar escriba el motivo en la nota.",
    "agreement_not_proposed": "El acuerdo ya fue decidido.",
    "agreement_closed": "El acuerdo ya estaba cerrado.",
}


def _spanish(exc: DomainError) -> str:
    if exc.code == "agreement_invalid" and exc.message[:1].isupper():
        return exc.message  # already in Spanish (the form's own checks)
    if exc.code == "agreement_invalid":
        return f"Cuotas no válidas: {exc.message}."
    return _MESSAGES.get(exc.code, exc.message)


def _back(agreement_id: uuid.UUID, what: str) -> RedirectResponse:
    return RedirectResponse(
        f"/supervisor/agreements?done={what}#agreement-{agreement_id}", status_code=303
    )


def _decide(action: str) -> Any:
    def decide(
        agreement_id: uuid.UUID,
        _: CsrfChecked,
        actor: PageActor,
        session: SessionDep,
        settings: SettingsDep,
        clock: ClockDep,
        note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    ) -> Response:
        act = getattr(agreements, action)
        try:
            act(session, actor, agreement_id, note=note, now=clock(), tz=settings.tz)
        except DomainError as exc:
            if exc.code in _MESSAGES:
                exc.message = _MESSAGES[exc.code]
            raise
        session.commit()
        return _back(agreement_id, DONE[action])

    return decide


DONE: Final = {"approve": "aprobado", "reject": "rechazado", "cancel": "cancelado"}
for _action in DONE:
    router.post(f"/agreements/{{agreement_id}}/{_action}")(_decide(_action))
