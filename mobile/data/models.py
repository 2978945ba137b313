"""The phone's tables (sync-protocol.md, "The phone").

`outbox.payload` is the event's JSON text exactly as first written and never updated: the server
hashes event content for dedup, so a retry must resend the same bytes. `amount` and
`ref_event_id` repeat two payload fields as columns so balances are computed in SQL.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mobile.data.base import Base

OUTBOX_STATES = ("pending", "acked", "held", "conflict")


class SyncState(Base):
    """One row: who this installation is and where sync stands."""

    __tablename__ = "sync_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    device_id: Mapped[str] = mapped_column(String(36))
    device_code: Mapped[str] = mapped_column(String(16))
    device_token: Mapped[str] = mapped_column(String(200))
    server_url: Mapped[str] = mapped_column(String(500))
    username: Mapped[str] = mapped_column(String(100), default="")
    # The collector's name as the server knows it (`GET /v1/me`), printed on receipts.
    full_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    next_device_seq: Mapped[int] = mapped_column(Integer, default=1)
    cursor: Mapped[str] = mapped_column(String(200), default="")
    server_epoch: Mapped[str] = mapped_column(String(100), default="")
    last_sync_at: Mapped[datetime | None]
    # The latest server clock reading seen (HTTP Date of a sync answer): what the retention of
    # acknowledged outbox rows runs on, so a wrong phone clock cannot purge them early.
    server_time: Mapped[datetime | None]


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'acked', 'held', 'conflict')", name="state_known"),
        Index("ix_outbox_state_device_seq", "state", "device_seq"),
        Index("ix_outbox_client_id", "client_id"),
    )

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_seq: Mapped[int] = mapped_column(Integer, unique=True)
    type: Mapped[str] = mapped_column(String(40))
    type_version: Mapped[int] = mapped_column(Integer, default=1)
    client_id: Mapped[str] = mapped_column(String(36))
    # As sent on the wire (ISO 8601 with the phone's UTC offset): data, never an order.
    device_time: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None]
    ref_event_id: Mapped[str | None] = mapped_column(String(36), index=True)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    acked_at: Mapped[datetime | None]
    server_seq: Mapped[int | None] = mapped_column(Integer)
    status_reason: Mapped[str | None] = mapped_column(String(200))


class ClientMirror(Base):
    """The server's view of one of the collector's clients, as of the last pull."""

    __tablename__ = "client"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # "closed": still shown (the collector may hold its cash), but no new visits are planned.
    status: Mapped[str] = mapped_column(String(10), default="active", server_default="active")
    lat: Mapped[float | None] = mapped_column(Float)  # coordinates, not money
    lon: Mapped[float | None] = mapped_column(Float)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    balance: Mapped[Decimal]
    version: Mapped[int] = mapped_column(Integer)
    # Server change-log seq of the `put` that wrote this row: an acked event whose server_seq is
    # at most this is already inside `balance`.
    change_seq: Mapped[int] = mapped_column(Integer, default=0)
    open_invoices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    promises: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    visits: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    # Issue 7: proposed/active payment agreements with their installments, open disputes
    # (glosas) and whether the client was referred to a law firm (sync.protocol.ClientData).
    agreements: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    disputes: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    legal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime]


class EventStatus(Base):
    """What the server later said about one of our events (e.g. a held payment's note)."""

    __tablename__ = "event_status"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class RoutePlanRow(Base):
    """A day route the collector chose (the newest of a day is the one shown). Written in the
    same transaction as its `route.planned` outbox row, whose id it carries."""

    __tablename__ = "route_plan"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_date: Mapped[date] = mapped_column(index=True)
    planned_at: Mapped[datetime]
    start_lat: Mapped[float | None] = mapped_column(Float)
    start_lon: Mapped[float | None] = mapped_column(Float)
    # [{"client_id", "arrival" (ISO 8601)}] in planned order; [{"client_id", "reason"}]
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    distance_m: Mapped[float | None] = mapped_column(Float)


class CashHandoverRow(Base):
    """A cash handover the collector made (bank deposit or office), written in the same
    transaction as its `cash.handed_over` outbox row, whose id it carries. Kept after the outbox
    row is purged, so the payments it covers never come back as cash in hand by themselves;
    the server's decision arrives as an `event_status` of the same id."""

    __tablename__ = "cash_handover"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    method: Mapped[str] = mapped_column(String(20))
    bank_reference: Mapped[str] = mapped_column(String(500), default="")
    deposited_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    # The payment.collected event ids it covers (this phone's cash payments).
    payment_event_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
