"""Paz y salvo: issue a certificate for a client (`POST /v1/clients/{id}/clearance`), read it as
JSON or PDF (`/v1/clearances/{id}`, `/v1/clearances/{id}.pdf`), and the public check of a printed
code (`GET /v1/clearances/verify/{code}`, no login)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.api.formats import JSON, PDF, ExportFormat, FormatQuery, choose_format, file_response
from server.api.formats import file_responses as file_types
from server.services import clearance
from server.services.clearance import Certificate, Verification
from server.settings import Settings
from shared.calendar import business_date
from shared.clients import IsoDate

router = APIRouter(tags=["clearance"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "`insufficient_role`: supervisors and admins only"},
    404: {"description": "`clearance_not_found`"},
}
Code = Annotated[str, Path(max_length=64, description="as printed: XXXX-XXXX-XXXX")]


class ClearanceIn(BaseModel):
    as_of: IsoDate | None = Field(default=None, description="YYYY-MM-DD; today by default")


@router.post(
    "/v1/clients/{client_id}/clearance",
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "`insufficient_role`: supervisors and admins only"},
        404: {"description": "`client_not_found`"},
        409: {
            "description": "`balance_not_zero` (details.balance: what was owed at as_of), "
            "`open_dispute` (a glosa or devolución still open)"
        },
        422: {"description": "`as_of_in_future`, `invalid_input`"},
    },
)
def issue_clearance(
    client_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    body: ClearanceIn | None = None,
) -> Certificate:
    """Issue a paz y salvo: only if the client's balance at the end of `as_of` is zero (or a
    credit) and no glosa is open. The code printed on it is checked at `verify_path`."""
    now = clock()
    today = business_date(now, settings.tz)
    cert = clearance.issue(
        session,
        actor,
        client_id,
        as_of=(body.as_of if body else None) or today,
        today=today,
        now=now,
        signing_key=settings.signing_key,
    )
    session.commit()
    return cert


@router.get(
    "/v1/clearances/verify/{code}",
    responses={429: {"description": "`too_many_verifications` (Retry-After)"}},
)
def verify_clearance(
    request: Request, code: Code, session: SessionDep, settings: SettingsDep
) -> Verification:
    """Public (no login): is this printed code a valid paz y salvo, whose and at which date.
    A code that is not one answers `valid: false`. Limited per address (429
    `too_many_verifications`)."""
    clearance.verify_limiter(request.app.state).check(_remote(request))
    result = clearance.verify(session, code, signing_key=settings.signing_key)
    session.commit()
    return result


def _remote(request: Request) -> str:
    return request.client.host if request.client else ""


def pdf_response(request: Request, cert: Certificate, settings: Settings) -> Response:
    body = clearance.certificate_pdf(cert, settings, str(request.base_url))
    return file_response(body, ExportFormat.PDF, clearance.pdf_filename(cert))


@router.get("/v1/clearances/{clearance_id}.pdf", responses={**_ERRORS, **file_types(PDF)})
def get_clearance_pdf(
    request: Request,
    clearance_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
) -> Response:
    """The certificate as a PDF."""
    cert = clearance.get(session, actor, clearance_id)
    return pdf_response(request, cert, settings)


@router.get(
    "/v1/clearances/{clearance_id}",
    response_model=Certificate,
    responses={**_ERRORS, **file_types(PDF)},
)
def get_clearance(
    request: Request,
    clearance_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    fmt: FormatQuery = None,
) -> Certificate | Response:
    """A certificate; `?format=pdf` (or Accept: application/pdf) for the PDF."""
    wanted = choose_format(fmt, request.headers.get("accept"), offered=(JSON, PDF))
    cert = clearance.get(session, actor, clearance_id)
    if wanted is ExportFormat.PDF:
        return pdf_response(request, cert, settings)
    return cert
