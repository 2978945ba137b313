"""The review queue (`/v1/review`): held events, conflicts and flagged visits, and what a
supervisor decides about them. Office only."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.services import review
from server.services.review import ReviewEntry, ReviewPage
from shared.calendar import business_date

router = APIRouter(prefix="/v1/review", tags=["review"])

ItemId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the review item's id")]
_RESOLUTIONS = "; ".join(
    f"`{kind}`: " + ", ".join(f"`{name}` ({meaning})" for name, meaning in choices.items())
    for kind, choices in review.RESOLUTIONS.items()
)
_ITEM_ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "`insufficient_role`: supervisors and admins only"},
    404: {"description": "`review_item_not_found`"},
    409: {"description": "`review_already_resolved`"},
}


class Resolve(BaseModel):
    resolution: Annotated[str, Field(min_length=1, max_length=32)]
    note: Annotated[str, Field(max_length=review.MAX_NOTE)] = ""


class PostToClient(BaseModel):
    client_id: uuid.UUID
    note: Annotated[str, Field(max_length=review.MAX_NOTE)] = ""


@router.get(
    "",
    responses={
        403: {"description": "`insufficient_role`: supervisors and admins only"},
        422: {"description": "`invalid_input`"},
    },
)
def list_review(
    session: SessionDep,
    actor: ActorDep,
    kind: Literal["held_event", "conflict", "flagged_visit"] | None = None,
    status: Literal["open", "resolved", "all"] = "open",
    collector: Annotated[str | None, Query(max_length=64, description="a username")] = None,
    limit: Annotated[int, Query(ge=1, le=review.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> ReviewPage:
    """The queue, oldest first (open items unless `status` says otherwise): each item with its
    kind and reason, the event (type, device time), the collector, the client (code, name), the
    amount and where the money is (`client` or `suspense`) for payments, the flags, distance and
    accuracy for visits, and the resolutions it accepts."""
    return review.list_items(
        session,
        actor,
        kind=kind,
        status=None if status == "all" else status,
        collector=collector,
        limit=limit,
        offset=offset,
    )


@router.get("/{item_id}", responses=_ITEM_ERRORS)
def get_review_item(session: SessionDep, actor: ActorDep, item_id: ItemId) -> ReviewEntry:
    return review.get_item(session, actor, item_id)


@router.post(
    "/{item_id}/resolve",
    responses={**_ITEM_ERRORS, 422: {"description": "`invalid_resolution`, `invalid_input`"}},
    description="Close an open item, recording the decision, who, when and a note (audited). "
    "Nothing that moved money is changed. Resolutions by kind: " + _RESOLUTIONS + ".",
)
def resolve_review_item(
    session: SessionDep, clock: ClockDep, actor: ActorDep, item_id: ItemId, body: Resolve
) -> ReviewEntry:
    entry = review.resolve(
        session, actor, item_id, resolution=body.resolution, note=body.note, now=clock()
    )
    session.commit()
    return entry


@router.post(
    "/{item_id}/post-to-client",
    responses={
        **_ITEM_ERRORS,
        404: {"description": "`review_item_not_found`, `client_not_found`"},
        409: {"description": "`review_already_resolved`, `not_in_suspense`"},
        422: {"description": "`amount_out_of_range`, `invalid_input`"},
    },
)
def post_review_item_to_client(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
    item_id: ItemId,
    body: PostToClient,
) -> ReviewEntry:
    """Money a held payment left in suspense (unknown client, implausible amount) becomes a
    payment of `client_id` dated today (oldest due first, any excess as credit), exactly once;
    the item is resolved `posted_to_client` and audited."""
    now = clock()
    entry = review.post_to_client(
        session,
        actor,
        item_id,
        client_id=body.client_id,
        note=body.note,
        today=business_date(now, settings.tz),
        now=now,
    )
    session.commit()
    return entry
