"""Read side for the app's screens: the client mirror with visible balances, and this phone's own
events (visits, promises, payments, voids) with their sync state. Read-only; no Flet.

The screens combine the two: the server's view of a client (as of the last pull) and what the
collector did on this phone since, so a visit or promise shows at once, signal or not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.models import ClientMirror, OutboxRow, SyncState
from mobile.services.balances import visible_balances
from shared.money import money


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    due_date: date
    balance: Decimal


@dataclass(frozen=True)
class ServerPromise:
    amount: Decimal
    due_date: date
    status: str  # shared.promises status as the server computed it


@dataclass(frozen=True)
class ServerVisit:
    day: date
    outcome: str


@dataclass(frozen=True)
class ServerInstallment:
    due_date: date
    amount: Decimal
    paid: Decimal
    status: str  # paid / partial / pending / late / missed, as the server computed it


@dataclass(frozen=True)
class ServerAgreement:
    id: str  # for one proposed on a phone: that event's id
    standing: str  # proposed / on_track / broken / completed
    total: Decimal
    installments: tuple[ServerInstallment, ...]


@dataclass(frozen=True)
class ServerDispute:
    id: str  # for one opened on a phone: that event's id
    invoice_number: str
    amount: Decimal
    kind: str  # dispute (glosa) / return (devolución)
    reason_code: str


@dataclass(frozen=True)
class ClientRecord:
    id: str
    code: str
    name: str
    segment: str
    address: str
    lat: float | None
    lon: float | None
    phones: tuple[str, ...]
    channels: tuple[str, ...]
    balance: Decimal  # visible: server balance minus payments not reflected yet
    invoices: tuple[InvoiceLine, ...] = ()
    city: str = ""
    status: str = "active"
    promises: tuple[ServerPromise, ...] = ()  # as of the last pull
    visits: tuple[ServerVisit, ...] = ()
    agreements: tuple[ServerAgreement, ...] = ()
    disputes: tuple[ServerDispute, ...] = ()
    legal: bool = False  # referred to a law firm (cobro jurídico)
    change_seq: int = 0  # the server change that last wrote the mirror row


@dataclass(frozen=True)
class LocalEvent:
    """One row of this phone's outbox, parsed for display."""

    event_id: str
    device_seq: int
    type: str
    client_id: str
    device_time: datetime
    state: str  # pending / acked / held / conflict
    payload: dict[str, Any] = field(default_factory=dict)
    amount: Decimal | None = None
    ref_event_id: str | None = None
    status_reason: str | None = None
    server_seq: int | None = None


@dataclass(frozen=True)
class SyncInfo:
    username: str
    device_code: str
    server_url: str
    last_sync_at: datetime | None
    full_name: str = ""

    @property
    def collector(self) -> str:
        """Who signs a receipt: the full name once the server told it, else the username."""
        return self.full_name or self.username


def _invoices(raw: list[dict[str, Any]]) -> tuple[InvoiceLine, ...]:
    lines = []
    for item in raw or []:
        try:
            lines.append(
                InvoiceLine(
                    number=str(item["number"]),
                    due_date=date.fromisoformat(str(item["due_date"])),
                    balance=money(str(item["balance"])),
                )
            )
        except (KeyError, ValueError):
            continue  # a malformed mirror entry hides one line, never the client
    return tuple(sorted(lines, key=lambda line: (line.due_date, line.number)))


def _promises(raw: list[dict[str, Any]]) -> tuple[ServerPromise, ...]:
    lines = []
    for item in raw or []:
        try:
            lines.append(
                ServerPromise(
                    amount=money(str(item["amount"])),
                    due_date=date.fromisoformat(str(item["due_date"])),
                    status=str(item.get("status", "")),
                )
            )
        except (KeyError, ValueError):
            continue
    return tuple(lines)


def _visits(raw: list[dict[str, Any]]) -> tuple[ServerVisit, ...]:
    lines = []
    for item in raw or []:
        try:
            lines.append(ServerVisit(date.fromisoformat(str(item["day"])), str(item["outcome"])))
        except (KeyError, ValueError):
            continue
    return tuple(lines)


def _agreements(raw: list[dict[str, Any]]) -> tuple[ServerAgreement, ...]:
    lines = []
    for item in raw or []:
        try:
            installments = tuple(
                ServerInstallment(
                    due_date=date.fromisoformat(str(i["due_date"])),
                    amount=money(str(i["amount"])),
                    paid=money(str(i.get("paid", "0"))),
                    status=str(i.get("status", "pending")),
                )
                for i in item.get("installments") or ()
            )
            lines.append(
                ServerAgreement(
                    id=str(item["id"]),
                    standing=str(item["standing"]),
                    total=money(str(item["total"])),
                    installments=tuple(sorted(installments, key=lambda i: i.due_date)),
                )
            )
        except (KeyError, ValueError, TypeError):
            continue
    return tuple(lines)


def _disputes(raw: list[dict[str, Any]]) -> tuple[ServerDispute, ...]:
    lines = []
    for item in raw or []:
        try:
            lines.append(
                ServerDispute(
                    id=str(item["id"]),
                    invoice_number=str(item["invoice_number"]),
                    amount=money(str(item["amount"])),
                    kind=str(item.get("kind", "dispute")),
                    reason_code=str(item["reason_code"]),
                )
            )
        except (KeyError, ValueError, TypeError):
            continue
    return tuple(lines)


def load_clients(db: sessionmaker[Session]) -> list[ClientRecord]:
    with db() as session:
        balances = visible_balances(session)
        rows = session.scalars(select(ClientMirror).order_by(ClientMirror.name)).all()
        return [
            ClientRecord(
                id=row.id,
                code=row.code,
                name=row.name,
                segment=row.segment,
                address=row.address,
                lat=row.lat,
                lon=row.lon,
                phones=tuple(row.phones or ()),
                channels=tuple(row.channels or ()),
                balance=balances.get(row.id, row.balance),
                invoices=_invoices(row.open_invoices),
                city=row.city,
                status=row.status,
                promises=_promises(row.promises),
                visits=_visits(row.visits),
                agreements=_agreements(row.agreements),
                disputes=_disputes(row.disputes),
                legal=bool(row.legal),
                change_seq=row.change_seq,
            )
            for row in rows
        ]


def load_events(db: sessionmaker[Session]) -> list[LocalEvent]:
    """Every event still on this phone, oldest first (acked rows stay 30 days)."""
    with db() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.device_seq)).all()
        return [
            LocalEvent(
                event_id=row.event_id,
                device_seq=row.device_seq,
                type=row.type,
                client_id=row.client_id,
                device_time=datetime.fromisoformat(row.device_time),
                state=row.state,
                payload=json.loads(row.payload),
                amount=row.amount,
                ref_event_id=row.ref_event_id,
                status_reason=row.status_reason,
                server_seq=row.server_seq,
            )
            for row in rows
        ]


def load_sync_info(db: sessionmaker[Session]) -> SyncInfo | None:
    """None before the device is registered (first run)."""
    with db() as session:
        state = session.get(SyncState, 1)
        if state is None:
            return None
        return SyncInfo(
            state.username,
            state.device_code,
            state.server_url,
            state.last_sync_at,
            state.full_name,
        )
