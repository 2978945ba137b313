"""Reconciliations with clients (conciliaciones): the agenda of upcoming ones, scheduling one,
recording one (the client's balance, the differences, the notes applied) and downloading its
statement as PDF or XLSX (server/services/reconciliations.py, reconciliation_exports.py)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from server.repositories.ledger import client_by_code
from server.services import reconciliations
from server.services.download_names import attachment
from server.services.reconciliation_exports import NOTE_KINDS, RESOLUTIONS, export_file, summary
from server.services.reconciliations import ItemIn, NoteIn
from server.web import labels
from server.web.deps import ClockDep, CsrfChecked, PageActor, SessionDep, SettingsDep
from server.web.routing import PageRoute
from server.web.templating import render
from shared.calendar import business_date
from shared.errors import InvalidInput, NotFound
from shared.parsing import parse_amount

router = APIRouter(prefix="/supervisor", route_class=PageRoute, include_in_schema=False)

# Rows the record form offers (blank rows are ignored).
ITEM_ROWS: Final = 3
NOTE_ROWS: Final = 2
_MEDIA: Final = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FormList = Annotated[list[str] | None, Form()]


@router.get("/reconciliations")
def reconciliations_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    done: str = "",
) -> Response:
    agenda = reconciliations.agenda(session, actor, status="scheduled", limit=200)
    recorded = reconciliations.agenda(session, actor, status="done", limit=50)
    session.commit()
    return render(
        request,
        "reconciliations.html",
        {
            "agenda": agenda,
            "recorded": recorded,
            "today": business_date(clock(), settings.tz),
            "done": done,
        },
        actor=actor,
    )


@router.post("/reconciliations")
def schedule_reconciliation(
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    clock: ClockDep,
    client_code: Annotated[str, Form(max_length=64)] = "",
    scheduled_for: Annotated[date | None, Form()] = None,
    notes: Annotated[str, Form(max_length=reconciliations.MAX_TEXT)] = "",
) -> Response:
    client = client_by_code(session, client_code.strip())
    if client is None:
        raise NotFound(f"No hay un cliente con el código {client_code!r}.", code="client_not_found")
    if scheduled_for is None:
        raise InvalidInput("Indique la fecha de la conciliación.", code="invalid_input")
    reconciliations.schedule(
        session, actor, client.id, scheduled_for=scheduled_for, notes=notes, now=clock()
    )
    session.commit()
    return RedirectResponse("/supervisor/reconciliations?done=scheduled", status_code=303)


@router.get("/reconciliations/{reconciliation_id}")
def reconciliation_page(
    request: Request,
    reconciliation_id: uuid.UUID,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    done: str = "",
) -> Response:
    rec = reconciliations.get_reconciliation(session, actor, reconciliation_id)
    session.commit()
    return render(
        request,
        "reconciliation.html",
        {
            "r": rec,
            "summary": summary(rec),
            "resolutions": RESOLUTIONS,
            "note_kinds": NOTE_KINDS,
            "labels": labels,
            "item_rows": range(ITEM_ROWS),
            "note_rows": range(NOTE_ROWS),
            "today": business_date(clock(), settings.tz),
            "done": done,
        },
        actor=actor,
    )


@router.post("/reconciliations/{reconciliation_id}/complete")
def complete_reconciliation(
    reconciliation_id: uuid.UUID,
    _: CsrfChecked,
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    as_of: Annotated[date | None, Form()] = None,
    client_balance: Annotated[str, Form(max_length=40)] = "",
    statement_ref: Annotated[str, Form(max_length=200)] = "",
    notes: Annotated[str, Form(max_length=reconciliations.MAX_TEXT)] = "",
    item_invoice: FormList = None,
    item_description: FormList = None,
    item_ours: FormList = None,
    item_theirs: FormList = None,
    item_resolution: FormList = None,
    note_kind: FormList = None,
    note_invoice: FormList = None,
    note_amount: FormList = None,
    note_reason_code: FormList = None,
    note_reason: FormList = None,
    note_item: FormList = None,
) -> Response:
    if as_of is None:
        raise InvalidInput("Indique la fecha de corte.", code="invalid_input")
    try:
        items, kept = _items(
            item_invoice, item_description, item_ours, item_theirs, item_resolution
        )
        to_apply = _notes(
            note_kind, note_invoice, note_amount, note_reason_code, note_reason, note_item, kept
        )
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors())
        raise InvalidInput(f"Revise estos datos: {fields}.", code="invalid_input") from exc
    now = clock()
    reconciliations.complete(
        session,
        actor,
        reconciliation_id,
        as_of=as_of,
        client_balance=parse_amount(client_balance),
        statement_ref=statement_ref,
        items=items,
        notes_to_apply=to_apply,
        remarks=notes,
        today=business_date(now, settings.tz),
        now=now,
    )
    session.commit()
    return RedirectResponse(
        f"/supervisor/reconciliations/{reconciliation_id}?done=recorded", status_code=303
    )


@router.get("/reconciliations/{reconciliation_id}/export.{fmt}")
def reconciliation_file(
    reconciliation_id: uuid.UUID,
    fmt: Literal["pdf", "xlsx"],
    actor: PageActor,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    rec = reconciliations.get_reconciliation(session, actor, reconciliation_id)
    session.commit()
    content, stem = export_file(
        rec,
        fmt,
        generated_at=clock(),
        tz=settings.tz,
        currency=settings.currency,
        locale=settings.locale,
    )
    return Response(
        content,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": attachment(f"{stem}.{fmt}")},
    )


def _cell(values: list[str] | None, i: int) -> str:
    return (values[i] if values is not None and i < len(values) else "").strip()


def _amount(text: str) -> object:
    return None if not text else parse_amount(text)


def _items(
    invoice: list[str] | None,
    description: list[str] | None,
    ours: list[str] | None,
    theirs: list[str] | None,
    resolution: list[str] | None,
) -> tuple[list[ItemIn], dict[int, int]]:
    """The filled item rows, and each form row's index among them (for the notes' links)."""
    items: list[ItemIn] = []
    kept: dict[int, int] = {}
    for i in range(ITEM_ROWS):
        row = [_cell(v, i) for v in (invoice, description, ours, theirs)]
        if not any(row):
            continue
        kept[i] = len(items)
        items.append(
            ItemIn.model_validate(
                {
                    "invoice_number": row[0],
                    "description": row[1],
                    "our_amount": _amount(row[2]),
                    "their_amount": _amount(row[3]),
                    "resolution": _cell(resolution, i) or "none",
                }
            )
        )
    return items, kept


def _notes(
    kind: list[str] | None,
    invoice: list[str] | None,
    amount: list[str] | None,
    reason_code: list[str] | None,
    reason: list[str] | None,
    item: list[str] | None,
    kept: dict[int, int],
) -> list[NoteIn]:
    notes: list[NoteIn] = []
    for i in range(NOTE_ROWS):
        if not _cell(amount, i):
            continue
        linked = _cell(item, i)
        if linked and (not linked.isdigit() or int(linked) not in kept):
            raise InvalidInput(
                f"La nota {i + 1} apunta a una diferencia vacía.", code="invalid_item"
            )
        notes.append(
            NoteIn.model_validate(
                {
                    "kind": _cell(kind, i) or "credit_note",
                    "invoice_number": _cell(invoice, i),
                    "amount": parse_amount(_cell(amount, i)),
                    "reason_code": _cell(reason_code, i) or "reconciliation",
                    "reason": _cell(reason, i),
                    "item": kept[int(linked)] if linked else None,
                }
            )
        )
    return notes
