"""The day route the collector chose: stored beside its `route.planned` event in ONE local
transaction (like every field action), so the plan on screen and the event the supervisor gets
are the same, and it syncs exactly once. The event is about no single client: its envelope's
`client_id` is `sync.protocol.NO_CLIENT`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import OutboxRow, RoutePlanRow
from mobile.services.recording import Recorded, _append, _build, _next_seq
from shared.calendar import require_aware
from shared.geo import Point
from sync.protocol import NO_CLIENT, RoutePlanned

ROUTE_PLANNED = "route.planned"
NO_CLIENT_ID = str(NO_CLIENT)


@dataclass(frozen=True)
class StoredPlan:
    event_id: str
    plan_date: date
    planned_at: datetime
    order: tuple[str, ...]  # client ids in planned order
    arrivals: Mapping[str, datetime]
    skipped: tuple[tuple[str, str], ...]  # (client id, reason code)
    distance_m: float | None
    start: Point | None


def record_route_plan(
    db: sessionmaker[Session],
    *,
    plan_date: date,
    order: Sequence[str],
    arrivals: Mapping[str, datetime],
    skipped: Sequence[tuple[str, str]],
    distance_m: float | None,
    start: Point | None,
    now: datetime,
) -> Recorded:
    """Keep the chosen plan and queue its `route.planned` event, both or neither."""
    require_aware(now, "now")
    payload = _build(
        RoutePlanned,
        plan_date=plan_date,
        stops=tuple(order),
        skipped=tuple({"client_id": cid, "reason": reason} for cid, reason in skipped),
        distance_m=distance_m,
    )
    with db.begin() as session:
        seq, _ = _next_seq(session)
        row = _append(
            session,
            event_type=ROUTE_PLANNED,
            client_id=NO_CLIENT,
            now=now,
            payload=payload,
            device_seq=seq,
        )
        session.add(
            RoutePlanRow(
                event_id=row.event_id,
                plan_date=plan_date,
                planned_at=now,
                start_lat=start.lat if start else None,
                start_lon=start.lon if start else None,
                stops=[
                    {"client_id": cid, "arrival": arrivals[cid].isoformat()}
                    for cid in order
                    if cid in arrivals
                ],
                skipped=[{"client_id": cid, "reason": reason} for cid, reason in skipped],
                distance_m=distance_m,
            )
        )
    return Recorded(row.event_id, seq)


def load_route_plan(db: sessionmaker[Session], plan_date: date) -> StoredPlan | None:
    """The newest plan chosen for `plan_date` (a re-plan replaces the earlier one on screen;
    every one stays in the outbox and on the server)."""
    with db() as session:
        row = session.execute(
            select(RoutePlanRow)
            .outerjoin(OutboxRow, OutboxRow.event_id == RoutePlanRow.event_id)
            .where(RoutePlanRow.plan_date == plan_date)
            .order_by(RoutePlanRow.planned_at.desc(), OutboxRow.device_seq.desc())
            .limit(1)
        ).scalar_one_or_none()
        if row is None:
            return None
        start = (
            Point(row.start_lat, row.start_lon)
            if row.start_lat is not None and row.start_lon is not None
            else None
        )
        return StoredPlan(
            event_id=row.event_id,
            plan_date=row.plan_date,
            planned_at=row.planned_at,
            order=tuple(str(s["client_id"]) for s in row.stops),
            arrivals={
                str(s["client_id"]): datetime.fromisoformat(str(s["arrival"])) for s in row.stops
            },
            skipped=tuple((str(s["client_id"]), str(s["reason"])) for s in row.skipped),
            distance_m=row.distance_m,
            start=start,
        )


def is_client_event(client_id: str | uuid.UUID) -> bool:
    """False for events about no single client (a day route)."""
    return str(client_id) != NO_CLIENT_ID
