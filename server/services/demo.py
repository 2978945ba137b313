"""Seeding the reference scenario (domain.md) into an empty database, through the same user and
import use cases an administrator and an analyst use, and then a week of the collectors' field
work pushed by registered phones through the real sync push, so every page and report has
something true to show."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from server.repositories import field_activity
from server.repositories import users as users_repo
from server.services.access import Actor
from server.services.devices import register_device
from server.services.ledger_import.service import ImportOptions, import_records
from server.services.ledger_import.summary import ImportSummary
from server.services.syncing import push
from server.services.users import create_user
from shared.contact_rules import load_rules, windows_for
from shared.scenario import FieldDay, Scenario, field_week
from sync.protocol import NO_CLIENT, read_push


@dataclass(frozen=True)
class DemoSeed:
    scenario: Scenario
    summary: ImportSummary


def seed_demo(
    session: Session, scenario: Scenario, *, ledger_as_of: date | None = None
) -> DemoSeed:
    """Create the scenario's people, then import its ledger rows, as exported from the ERP on
    `ledger_as_of` (default: the scenario's date; the demo exports it before its field week, so
    the statements read in order). The caller commits."""
    for person in scenario.people:
        create_user(
            session,
            username=person.username,
            role=person.role,
            password=person.password,
            full_name=person.full_name,
        )
    session.flush()
    summary = import_records(
        session,
        scenario.rows,
        ImportOptions(
            filename="cartera-demo.csv",
            sha256="",
            as_of=ledger_as_of or scenario.as_of,
            imported_by="demo",
        ),
    )
    if summary.rejected:
        raise RuntimeError(f"the reference scenario did not import: {summary.errors[:3]}")
    return DemoSeed(scenario, summary)


# --- a week of field activity, pushed by registered demo phones -------------------------------

DEMO_DEVICE_CODES = ("DM2", "DM3", "DM4", "DM5", "DM6", "DM7", "DM8", "DM9")


@dataclass(frozen=True)
class FieldSeed:
    days: list[date]
    pushed: int  # events
    held: int


def working_days(as_of: date, count: int = 7) -> list[date]:
    """The `count` days before `as_of` on which collection visits are allowed (contact rules:
    no Sundays, no national holidays)."""
    rules = load_rules("CO")
    days = [as_of - timedelta(days=i) for i in range(count, 0, -1)]
    return [d for d in days if windows_for(rules, d)]


def seed_field_week(
    session: Session, scenario: Scenario, *, tz: tzinfo, seed: int = 2300
) -> FieldSeed:
    """Register a phone per demo collector and push a week of their work through the real sync
    push (syncing.push), each day's events as the phone would send them at the end of the day.
    The caller commits."""
    days = working_days(scenario.as_of)
    plan = field_week(scenario, days, tz, seed)
    ids = field_activity.client_ids_by_code(session)
    codes = iter(DEMO_DEVICE_CODES)
    rng = random.Random(seed)
    phones: dict[str, tuple[Actor, str]] = {}
    for person in scenario.collectors:
        user = users_repo.get_user_by_username(session, person.username)
        assert user is not None
        actor = Actor(user_id=user.id, username=user.username, role=user.role)
        reg = register_device(
            session,
            actor,
            name=f"Celular de {person.full_name}",
            install_nonce=f"demo-{person.username}",
            now=datetime.combine(days[0], time(6, 30), tzinfo=tz),
            new_code=lambda: next(codes),
        )
        phones[person.username] = (replace(actor, device_id=reg.device.id), reg.device.code)
    seqs: dict[str, int] = {}
    pushed = held = 0
    for fd in plan:
        actor, code = phones[fd.collector]
        events = _day_events(fd, tz, ids, code, seqs, rng)
        last = max((s.at for s in fd.stops), default=datetime.combine(fd.day, time(17), tzinfo=tz))
        received = max(last, datetime.combine(fd.day, time(18, 30), tzinfo=tz)) + timedelta(
            minutes=20
        )
        body = {
            "protocol": 1,
            "device_id": str(actor.device_id),
            "app_version": "demo",
            "events": events,
        }
        response = push(session, actor, read_push(body), now=received, tz=tz)
        pushed += len(response.results)
        held += sum(1 for r in response.results if r.status == "held")
    return FieldSeed(days, pushed, held)


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _day_events(
    fd: FieldDay,
    tz: tzinfo,
    ids: dict[str, uuid.UUID],
    device_code: str,
    seqs: dict[str, int],
    rng: random.Random,
) -> list[dict[str, Any]]:
    def envelope(
        kind: str, client: uuid.UUID | str, at: datetime, payload: dict[str, Any]
    ) -> dict[str, Any]:
        seqs[fd.collector] = seqs.get(fd.collector, 0) + 1
        return {
            "event_id": _uid(rng),
            "device_seq": seqs[fd.collector],
            "type": kind,
            "type_version": 1,
            "client_id": str(client),
            "device_time": at.isoformat(),
            "payload": payload,
        }

    first = fd.stops[0].at if fd.stops else datetime.combine(fd.day, time(8), tzinfo=tz)
    stops = [ids[c] for c in fd.plan]
    route = [
        envelope(
            "route.planned",
            NO_CLIENT,
            first - timedelta(minutes=25),
            {
                "plan_date": fd.day.isoformat(),
                "stops": [str(s) for s in stops],
                "skipped": [{"client_id": str(ids[c]), "reason": r} for c, r in fd.skipped],
                "distance_m": fd.plan_distance_m,
            },
        )
    ]
    events = route
    receipt = seqs.get(f"{fd.collector}/receipt", 0)
    for stop in fd.stops:
        client = ids[stop.client_code]
        visit = envelope(
            "visit.recorded",
            client,
            stop.at,
            {
                "outcome": stop.outcome,
                "lat": stop.lat,
                "lon": stop.lon,
                "accuracy_m": stop.accuracy_m,
                "notes": stop.notes,
            },
        )
        events.append(visit)
        later = stop.at + timedelta(minutes=4)
        if stop.promise is not None:
            amount, due = stop.promise
            events.append(
                envelope(
                    "promise.made",
                    client,
                    later,
                    {
                        "amount": f"{amount:.2f}",
                        "due_date": due.isoformat(),
                        "visit_event_id": visit["event_id"],
                    },
                )
            )
        if stop.payment is not None:
            amount, method = stop.payment
            takes = [amount * 10] if stop.void_reason else []  # the mistyped one first
            for n, value in enumerate([*takes, amount]):
                receipt += 1
                paid = envelope(
                    "payment.collected",
                    client,
                    later + timedelta(minutes=3 * n),
                    {
                        "amount": f"{value:.2f}",
                        "method": method,
                        "receipt_no": f"{device_code}-{receipt:06d}",
                        "visit_event_id": visit["event_id"],
                    },
                )
                events.append(paid)
                if takes and n == 0:
                    events.append(
                        envelope(
                            "payment.voided",
                            client,
                            later + timedelta(minutes=2),
                            {"payment_event_id": paid["event_id"], "reason": stop.void_reason},
                        )
                    )
    seqs[f"{fd.collector}/receipt"] = receipt
    return events
