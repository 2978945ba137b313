"""The supervisor's review queue (sync-protocol.md: held events; domain.md: flagged visits).

Items are opened by the sync push: `held_event` (money or facts for a closed, reassigned or
unknown client, an implausible amount, a void that could not be applied, a malformed event),
`conflict` (the same event id with other content) and `flagged_visit` (shared/visits.py).

Resolving an item records the decision (`resolution`, from the small set of its kind below),
who and when, a note, and an audit row. It never deletes or edits money: whatever the event
did to the ledger stays, and a correction is its own ledger entry. The one money action here is
`post_to_client`: money parked in suspense (unknown client, implausible amount) becomes a
payment entry of the right client, exactly once (the entry carries the payment's event id,
unique in the ledger), and the item is resolved `posted_to_client`. The suspense row stays as
the record of what arrived; money still in suspense is the suspense rows without an entry of
the same event id.

Every function here checks the caller is office staff (supervisor or admin) and never commits.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Final, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from server.db.models import AuditLog, ReviewItem
from server.repositories import review as review_repo
from server.services import changes, ledger
from server.services.access import Actor, require_office
from shared.errors import Conflict, InvalidInput, NotFound
from shared.money import MAX_AMOUNT
from shared.visits import split_flags

ReviewKind = Literal["held_event", "conflict", "flagged_visit"]
ReviewStatus = Literal["open", "resolved"]
KINDS: Final[tuple[str, ...]] = ("held_event", "conflict", "flagged_visit")
POSTED_TO_CLIENT: Final = "posted_to_client"

# What a supervisor may decide, per kind (POST /v1/review/{id}/resolve):
RESOLUTIONS: Final[dict[str, dict[str, str]]] = {
    "held_event": {
        "accepted": "what the event recorded stands as it is",
        "followed_up": "handled outside the system (the collector or the client was contacted)",
        # POSTED_TO_CLIENT is set only by post_to_client, never chosen here.
    },
    "conflict": {
        "acknowledged": "the first content stands; the other was a phone error",
    },
    "flagged_visit": {
        "justified": "the collector explained it (GPS, a moved client, a late appointment)",
        "not_justified": "the visit stays suspicious on the collector's record",
    },
}
MAX_NOTE = 2000
MAX_PAGE = 500


class ClientRef(BaseModel):
    id: uuid.UUID
    code: str | None  # None: a client this server does not know
    name: str | None


class ReviewEntry(BaseModel):
    id: int
    kind: str
    reason: str
    status: str
    created_at: datetime
    event_id: uuid.UUID
    event_type: str | None
    event_time: datetime | None  # the device's clock
    collector: str | None
    client: ClientRef | None
    # Money events: the amount, and where it is now ("suspense", "client").
    amount: Decimal | None = None
    money_in: Literal["suspense", "client"] | None = None
    # Flagged visits: the evidence.
    flags: list[str] = []
    distance_m: float | None = None
    accuracy_m: float | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    note: str = ""
    # What may be decided now (empty once resolved).
    resolutions: list[str] = []
    can_post_to_client: bool = False


class ReviewPage(BaseModel):
    items: list[ReviewEntry]
    total: int  # items matching the filters
    limit: int
    offset: int


def _entry(r: review_repo.ReviewRow) -> ReviewEntry:
    amount: Decimal | None = None
    money_in: Literal["suspense", "client"] | None = None
    if r.entry_amount is not None and r.entry_source is not None:
        amount, money_in = -r.entry_amount, "client"
    elif r.suspense_amount is not None:
        amount, money_in = r.suspense_amount, "suspense"
    is_open = r.status == "open"
    return ReviewEntry(
        id=r.id,
        kind=r.kind,
        reason=r.reason,
        status=r.status,
        created_at=r.created_at,
        event_id=r.event_id,
        event_type=r.event_type,
        event_time=r.device_time,
        collector=r.collector,
        client=None
        if r.client_id is None
        else ClientRef(id=r.client_id, code=r.client_code, name=r.client_name),
        amount=amount,
        money_in=money_in,
        flags=list(split_flags(r.visit_flags or "")),
        distance_m=r.visit_distance_m,
        accuracy_m=r.visit_accuracy_m,
        resolved_at=r.resolved_at,
        resolved_by=r.resolved_by,
        resolution=r.resolution,
        note=r.note,
        resolutions=sorted(RESOLUTIONS.get(r.kind, {})) if is_open else [],
        can_post_to_client=is_open and money_in == "suspense",
    )


def list_items(
    session: Session,
    actor: Actor,
    *,
    kind: str | None = None,
    status: str | None = "open",
    collector: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> ReviewPage:
    """The queue, oldest first: open items by default (`status=None`: all), filtered by kind and
    by the collector whose event it is (a username)."""
    require_office(actor)
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"unknown review kind {kind!r}", code="invalid_review_kind")
    if status is not None and status not in ("open", "resolved"):
        raise InvalidInput(f"unknown review status {status!r}", code="invalid_review_status")
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    filters = review_repo.Filters(kind=kind, status=status, collector=collector)
    rows = review_repo.items(session, filters, limit=limit, offset=offset)
    return ReviewPage(
        items=[_entry(r) for r in rows],
        total=review_repo.count(session, filters),
        limit=limit,
        offset=offset,
    )


def get_item(session: Session, actor: Actor, item_id: int) -> ReviewEntry:
    require_office(actor)
    row = review_repo.item(session, item_id)
    if row is None:
        raise NotFound(f"no review item {item_id}", code="review_item_not_found")
    return _entry(row)


def resolve(
    session: Session,
    actor: Actor,
    item_id: int,
    *,
    resolution: str,
    note: str = "",
    now: datetime,
) -> ReviewEntry:
    """Close an open item with one of the resolutions of its kind. 404 `review_item_not_found`,
    409 `review_already_resolved`, 422 `invalid_resolution`."""
    require_office(actor)
    item = _open_item(session, item_id)
    allowed = RESOLUTIONS.get(item.kind, {})
    if resolution not in allowed:
        raise InvalidInput(
            f"{resolution!r} is not a resolution of a {item.kind}; use one of {sorted(allowed)}",
            code="invalid_resolution",
            details={"allowed": sorted(allowed)},
        )
    _close(session, actor, item, resolution, note, now=now, details={})
    return get_item(session, actor, item_id)


def post_to_client(
    session: Session,
    actor: Actor,
    item_id: int,
    *,
    client_id: uuid.UUID,
    note: str = "",
    today: date,
    now: datetime,
) -> ReviewEntry:
    """Post the money a held payment left in suspense to `client_id`'s ledger (oldest due first,
    any excess as credit), dated `today`, and resolve the item `posted_to_client`.
    404 `review_item_not_found` / `client_not_found`; 409 `review_already_resolved`,
    `not_in_suspense` (nothing parked, or already posted); 422 `amount_out_of_range`."""
    require_office(actor)
    item = _open_item(session, item_id)
    parked = review_repo.suspense_of(session, item.event_id)
    if parked is None or review_repo.entry_of_event(session, item.event_id) is not None:
        raise Conflict("this item has no money waiting in suspense", code="not_in_suspense")
    client = review_repo.lock_client(session, client_id)
    if client is None:
        raise NotFound("no such client", code="client_not_found")
    if abs(client.balance - parked.amount) > MAX_AMOUNT:
        raise InvalidInput(
            "posting this amount would take the client's balance out of range",
            code="amount_out_of_range",
        )
    entry = ledger.post_payment(
        session,
        client_id=client.id,
        amount=parked.amount,
        effective_date=today,
        source="manual",
        event_id=item.event_id,  # unique in the ledger: the money is posted once
        reason=f"Recaudo en suspenso aplicado por revisión #{item.id}",
        created_by=actor.user_id,
    )
    details = {"client_id": str(client.id), "amount": str(parked.amount), "entry_id": str(entry.id)}
    _close(session, actor, item, POSTED_TO_CLIENT, note, now=now, details=details)
    # Last: the client's new balance to its collector's phone (the counter is the last lock).
    changes.clients_put(session, [(client.id, client.collector_id)])
    return get_item(session, actor, item_id)


def _open_item(session: Session, item_id: int) -> ReviewItem:
    item = review_repo.lock_item(session, item_id)
    if item is None:
        raise NotFound(f"no review item {item_id}", code="review_item_not_found")
    if item.status != "open":
        raise Conflict(
            f"review item {item_id} was already resolved ({item.resolution})",
            code="review_already_resolved",
        )
    return item


def _close(
    session: Session,
    actor: Actor,
    item: ReviewItem,
    resolution: str,
    note: str,
    *,
    now: datetime,
    details: dict[str, str],
) -> None:
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"the note is longer than {MAX_NOTE} characters", code="note_too_long")
    item.status = "resolved"
    item.resolution = resolution
    item.note = note
    item.resolved_at = now
    item.resolved_by = actor.user_id
    session.add(
        AuditLog(
            at=now,
            actor_id=actor.user_id,
            action="review.resolve",
            entity="review_item",
            entity_id=str(item.id),
            details={"kind": item.kind, "reason": item.reason, "resolution": resolution, **details},
        )
    )
    session.flush()
