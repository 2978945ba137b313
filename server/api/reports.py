"""Office reports (`/v1/reports`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.services import aging
from shared.calendar import business_date
from shared.clients import AgingReport, IsoDate, Segment

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/aging",
    responses={
        403: {"description": "`insufficient_role`: supervisors and admins only"},
        422: {"description": "`invalid_input`: a malformed date or parameter"},
    },
)
def get_aging(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    as_of: Annotated[IsoDate | None, Query(description="YYYY-MM-DD; today by default")] = None,
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
    segment: Segment | None = None,
) -> AgingReport:
    """Edad de cartera at `as_of`, rebuilt from the ledger: per bucket, collector and segment,
    with the open disputes' amounts apart (`disputed`, `collectable`)."""
    return aging.portfolio_aging(
        session,
        actor,
        as_of=as_of or business_date(clock(), settings.tz),
        edges=settings.aging_edges,
        collector=collector,
        segment=segment,
        tz=settings.tz,
    )
