"""Clients (`/v1/clients`): list, detail, statement at a date, assignment to a collector."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.services import clients, statements
from server.services.clients import MAX_PAGE
from shared.calendar import business_date
from shared.clients import AssignmentRequest, ClientDetail, ClientPage, IsoDate, Segment, Statement

router = APIRouter(prefix="/v1/clients", tags=["clients"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "`client_not_found`: no such client, or not one of yours"},
    422: {"description": "`invalid_input`: a malformed id, date or parameter"},
}


@router.get("", responses={422: {"description": "`invalid_input` or `unknown_bucket`"}})
def list_clients(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
    segment: Segment | None = None,
    bucket: Annotated[
        str | None,
        Query(description="e.g. `al_dia`, `31_60`, `mas_360`", pattern=r"^[a-z0-9_]{1,32}$"),
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="code, name or tax id")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> ClientPage:
    """Clients ordered by code; a collector only ever gets their own."""
    return clients.list_clients(
        session,
        actor,
        today=business_date(clock(), settings.tz),
        edges=settings.aging_edges,
        collector=collector,
        segment=segment,
        bucket=bucket,
        q=q,
        limit=limit,
        offset=offset,
    )


@router.get("/{client_id}", responses=_NOT_FOUND)
def get_client(
    client_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
) -> ClientDetail:
    today = business_date(clock(), settings.tz)
    return clients.client_detail(session, actor, client_id, today=today, edges=settings.aging_edges)


@router.get("/{client_id}/statement", responses=_NOT_FOUND)
def get_statement(
    client_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    as_of: Annotated[IsoDate | None, Query(description="YYYY-MM-DD; today by default")] = None,
) -> Statement:
    """The statement of account at `as_of` (business timezone), rebuilt from the ledger."""
    day = as_of or business_date(clock(), settings.tz)
    return statements.client_statement(
        session, actor, client_id, as_of=day, edges=settings.aging_edges
    )


@router.put(
    "/{client_id}/assignment",
    responses={
        **_NOT_FOUND,
        403: {"description": "`insufficient_role`: supervisors and admins only"},
        422: {"description": "`unknown_collector`: not an active collector"},
    },
)
def put_assignment(
    client_id: uuid.UUID,
    body: AssignmentRequest,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
) -> ClientDetail:
    detail = clients.assign_collector(
        session,
        actor,
        client_id,
        collector=body.collector,
        today=business_date(clock(), settings.tz),
        edges=settings.aging_edges,
    )
    session.commit()
    return detail
