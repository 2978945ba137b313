"""Server tables (typed declarative). The ledger is append-only: rows that moved money are never
updated or deleted; `client.balance` and `invoice.balance` are projections of the entries, kept
in the same transaction as each entry and recomputable from them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, utcnow

ROLES = ("collector", "supervisor", "admin")
SEGMENTS = ("grupo", "convenio_externo", "entidad_externa", "particular")
ENTRY_KINDS = ("charge", "payment", "adjustment", "reversal")


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)


class LoginFailure(Base):
    """Failed logins, for throttling; kept in the database so every worker sees them."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Device(Base):
    """One app installation. Its token is stored hashed; revoking it stops every sync call."""

    __tablename__ = "device"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    install_nonce: Mapped[str] = mapped_column(String(128))
    code: Mapped[str] = mapped_column(String(8), unique=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="raise")

    __table_args__ = (UniqueConstraint("user_id", "install_nonce"),)


class Client(Base):
    __tablename__ = "client"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    tax_id: Mapped[str] = mapped_column(String(32), default="")
    segment: Mapped[str] = mapped_column(String(32), default="particular", index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float | None]  # coordinates are not money: floats are right here
    lon: Mapped[float | None]
    # Where lat/lon came from: "ledger" (imported) or "learned" (from repeated verified visits).
    location_source: Mapped[str | None] = mapped_column(String(16))
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    collector_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    balance: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    collector: Mapped[User | None] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint(f"segment IN {SEGMENTS!r}", name="segment"),
        CheckConstraint("status IN ('active', 'closed')", name="status"),
    )


class Invoice(Base):
    __tablename__ = "invoice"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    issue_date: Mapped[date | None]
    due_date: Mapped[date]
    amount: Mapped[Decimal]
    balance: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_invoice_client_due", "client_id", "due_date"),)


class ImportBatch(Base):
    """One ledger import (file, who, when, what it did): the `source` of the entries it wrote."""

    __tablename__ = "import_batch"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LedgerEntry(Base):
    """An append-only movement of a client's debt. `amount` is signed: positive increases what the
    client owes (a charge), negative decreases it (a payment, a credit note)."""

    __tablename__ = "ledger_entry"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]
    effective_date: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # import | sync | manual
    import_batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("import_batch.id"))
    event_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_entry.id"), unique=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))

    allocations: Mapped[list[LedgerAllocation]] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint(f"kind IN {ENTRY_KINDS!r}", name="kind"),
        CheckConstraint("source IN ('import', 'sync', 'manual')", name="source"),
        Index("ix_ledger_entry_client_date", "client_id", "effective_date"),
        Index("ix_ledger_entry_kind_date", "kind", "effective_date"),
    )


class LedgerAllocation(Base):
    """Where an entry lands: an invoice, or (invoice_id NULL) the client's unapplied credit.
    The allocations of an entry always add up to its amount."""

    __tablename__ = "ledger_allocation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    amount: Mapped[Decimal]


class AuditLog(Base):
    """Who changed what outside the ledger (assignments, users, devices, imports)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- sync push (sync-protocol.md) --------------------------------------------------------------

INBOUND_STATUSES = ("applied", "held")


class InboundEvent(Base):
    """Every event a phone pushed, kept forever under its permanent `event_id`: the dedup key
    (retry → duplicate, other content → conflict) and the raw evidence behind every effect.
    Envelope columns are nullable because a malformed event is stored too (held, raw JSON)."""

    __tablename__ = "inbound_event"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    type_version: Mapped[int | None]
    device_seq: Mapped[int | None] = mapped_column(BigInteger)
    client_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # as sent; may be unknown
    device_time: Mapped[datetime | None]
    received_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    server_seq: Mapped[int] = mapped_column(BigInteger, unique=True)

    __table_args__ = (
        CheckConstraint(f"status IN {INBOUND_STATUSES!r}", name="status"),
        Index("ix_inbound_event_device_seq", "device_id", "device_seq"),
    )


class EventConflict(Base):
    """A second push of a known event_id with other content: kept for forensics, never applied."""

    __tablename__ = "event_conflict"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    received_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReviewItem(Base):
    """Something a supervisor must look at: a held event (closed, reassigned or unknown client,
    malformed payload, a void without its payment), a conflict, or a flagged visit. Resolving
    one records what was decided (`resolution`) and why (`note`); the effects it had stay."""

    __tablename__ = "review_item"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))  # held_event | conflict | flagged_visit
    event_id: Mapped[uuid.UUID] = mapped_column(index=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    resolution: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")

    __table_args__ = (CheckConstraint("status IN ('open', 'resolved')", name="status"),)


class SuspenseEntry(Base):
    """Money collected for a client this server does not know: never rejected, parked here until
    a supervisor posts it to the right client (money conservation: payments = entries + this)."""

    __tablename__ = "suspense_entry"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    amount: Mapped[Decimal]
    client_id: Mapped[uuid.UUID]  # as sent by the phone
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    received_at: Mapped[datetime]


class Visit(Base):
    """A visit as the collector recorded it (a field fact: never rejected)."""

    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)  # as sent; may be unknown
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    device_time: Mapped[datetime]
    received_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(32))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    # Decided when the visit is received (domain.md, "Weekly visit counts"): the business day of
    # its device time, the distance to the client's known location, whether that makes it
    # verified, and the flags for the supervisor (comma-separated names, "" when none).
    business_date: Mapped[date | None]
    distance_m: Mapped[float | None]
    verified: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    flags: Mapped[str] = mapped_column(String(120), default="", server_default="")

    __table_args__ = (
        Index("ix_visit_user_date", "user_id", "business_date"),
        # Every collector's visits of a period (weekly counts, flagged visits, bonus contacts).
        Index("ix_visit_business_date", "business_date"),
    )


class Promise(Base):
    """A promise to pay, as recorded in the field."""

    __tablename__ = "promise"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    device_time: Mapped[datetime]
    received_at: Mapped[datetime]
    amount: Mapped[Decimal]
    due_date: Mapped[date]
    visit_event_id: Mapped[uuid.UUID | None]

    __table_args__ = (Index("ix_promise_user_due", "user_id", "due_date"),)


class RoutePlan(Base):
    """A day route a phone planned (`route.planned`): the stops in planned order and the ones
    left out with why, so the supervisor can compare plan and reality. A re-plan is a new row;
    the latest `device_time` of a day is the plan in force."""

    __tablename__ = "route_plan"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    plan_date: Mapped[date]
    device_time: Mapped[datetime]
    received_at: Mapped[datetime]
    stops: Mapped[list[str]] = mapped_column(JSON, default=list)  # client ids, planned order
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # {client_id, reason}
    distance_m: Mapped[float | None]

    __table_args__ = (Index("ix_route_plan_user_date", "user_id", "plan_date"),)


class SyncCounter(Base):
    """Named counters. `server_seq` is allocated here in blocks just before commit: the row lock
    of the UPDATE is held until commit, so seqs become visible in commit order (a pull reader
    never sees N+1 while N is uncommitted)."""

    __tablename__ = "sync_counter"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


# --- sync pull (sync-protocol.md "Pull") -------------------------------------------------------


class ChangeLog(Base):
    """The latest change of each entity in each collector's scope, under a `seq` taken from the
    same commit-ordered counter as `server_seq`. A later change of the same entity moves its row
    to a new, higher seq (an upsert), so a reader paging by seq sees every entity's latest state
    exactly at its latest position and the table stays as small as the scopes. Client puts are
    pointers: their `data` is computed when read, in the reader's snapshot; event_status puts
    carry their small `data` here."""

    __tablename__ = "change_log"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    entity: Mapped[str] = mapped_column(String(16), primary_key=True)  # client | event_status
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    op: Mapped[str] = mapped_column(String(8))  # put | remove
    reason: Mapped[str | None] = mapped_column(String(32))  # remove: reassigned
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        CheckConstraint("op IN ('put', 'remove')", name="op"),
        Index("ix_change_log_user_seq", "user_id", "seq"),
    )


# --- collections work beyond the visit (issue 7) -----------------------------------------------
# Field-proposed rows take the phone event's id as their own id (`id == event_id`), so a retried
# push finds the same row; office-created rows get a fresh uuid and no event_id.

ORIGINS = ("office", "field")
AGREEMENT_STATUSES = ("proposed", "active", "rejected", "cancelled")


class PaymentAgreement(Base):
    """An installment plan (acuerdo de pago). `status` is the office's decision; whether the
    client keeps it (on track, broken, completed) is derived from the payments (shared)."""

    __tablename__ = "payment_agreement"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    origin: Mapped[str] = mapped_column(String(8))
    event_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[Decimal]
    notes: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    proposed_at: Mapped[datetime]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")

    installments: Mapped[list[AgreementInstallment]] = relationship(
        lazy="raise", order_by="AgreementInstallment.seq"
    )

    __table_args__ = (
        CheckConstraint(f"origin IN {ORIGINS!r}", name="origin"),
        CheckConstraint(f"status IN {AGREEMENT_STATUSES!r}", name="status"),
    )


class AgreementInstallment(Base):
    __tablename__ = "agreement_installment"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_agreement.id"), index=True)
    seq: Mapped[int]  # 1, 2, ... in due-date order
    due_date: Mapped[date]
    amount: Mapped[Decimal]

    __table_args__ = (UniqueConstraint("agreement_id", "seq"),)


DISPUTE_KINDS = ("dispute", "return")  # glosa (objection to part of an invoice) | devolución
DISPUTE_STATUSES = ("open", "accepted", "rejected")


class Dispute(Base):
    """A glosa or devolución on an invoice. Accepted: a credit note (`credit_note` row and its
    ledger adjustment) for `accepted_amount`; rejected: the invoice stays due."""

    __tablename__ = "dispute"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    invoice_number: Mapped[str] = mapped_column(String(64))  # as given (may be unknown)
    kind: Mapped[str] = mapped_column(String(8), default="dispute")
    amount: Mapped[Decimal]
    reason_code: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(8))
    event_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    opened_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    opened_at: Mapped[datetime]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    accepted_amount: Mapped[Decimal | None]

    __table_args__ = (
        CheckConstraint(f"kind IN {DISPUTE_KINDS!r}", name="kind"),
        CheckConstraint(f"origin IN {ORIGINS!r}", name="origin"),
        CheckConstraint(f"status IN {DISPUTE_STATUSES!r}", name="status"),
    )


class Reconciliation(Base):
    """A conciliación with a client at a date: our ledger balance next to the balance on the
    client's statement, the differences found (`reconciliation_item`) and the notes applied.
    `scheduled` rows are the agenda of upcoming reconciliations."""

    __tablename__ = "reconciliation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    scheduled_for: Mapped[date | None]
    as_of: Mapped[date | None]
    our_balance: Mapped[Decimal | None]
    client_balance: Mapped[Decimal | None]
    statement_ref: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'done', 'cancelled')", name="status"),
    )


class ReconciliationItem(Base):
    """One difference between the two statements and what was done about it."""

    __tablename__ = "reconciliation_item"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    reconciliation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reconciliation.id"), index=True
    )
    invoice_number: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    our_amount: Mapped[Decimal | None]
    their_amount: Mapped[Decimal | None]
    # credit_note | adjustment | client_to_pay | client_to_support | none
    resolution: Mapped[str] = mapped_column(String(32), default="none")
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_note.id"))


class CreditNote(Base):
    """A credit note or adjustment decided in the office (an accepted dispute, a reconciliation):
    the ledger entry it posted, why, and who approved it."""

    __tablename__ = "credit_note"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # credit_note | adjustment
    reason_code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    approved_at: Mapped[datetime]
    dispute_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dispute.id"), index=True)
    reconciliation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("reconciliation.id"), index=True
    )

    __table_args__ = (CheckConstraint("kind IN ('credit_note', 'adjustment')", name="kind"),)


class LawFirm(Base):
    """An external law firm that takes cases for cobro jurídico."""

    __tablename__ = "law_firm"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    tax_id: Mapped[str] = mapped_column(String(32), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


LEGAL_STATUSES = ("referred", "in_progress", "closed")
LEGAL_OUTCOMES = ("recovered", "agreement", "negative")


class LegalReferral(Base):
    """A client (or some of its invoices) handed to a law firm, tracked to an outcome:
    positive (`recovered`, `agreement`) or `negative`."""

    __tablename__ = "legal_referral"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    law_firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("law_firm.id"), index=True)
    invoice_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)  # [] = whole client
    amount: Mapped[Decimal]  # the balance referred, at referral
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="referred", index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    referred_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    referred_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(f"status IN {LEGAL_STATUSES!r}", name="status"),
        CheckConstraint(f"outcome IS NULL OR outcome IN {LEGAL_OUTCOMES!r}", name="outcome"),
    )


class LegalReferralUpdate(Base):
    """The history of a referral: each status change or note from the firm."""

    __tablename__ = "legal_referral_update"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_referral.id"), index=True)
    at: Mapped[datetime]
    by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


HANDOVER_STATUSES = ("pending", "confirmed", "rejected")


class CashHandover(Base):
    """Cash a collector deposited at a bank or handed to the office (`cash.handed_over`), with the
    cash payments it covers; a supervisor confirms it against the bank or the till."""

    __tablename__ = "cash_handover"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("device.id"))
    amount: Mapped[Decimal]
    method: Mapped[str] = mapped_column(String(16))  # bank_deposit | office
    bank_reference: Mapped[str] = mapped_column(String(200), default="")
    deposited_on: Mapped[date]
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    hold_reason: Mapped[str | None] = mapped_column(String(64))  # set when it did not add up
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (CheckConstraint(f"status IN {HANDOVER_STATUSES!r}", name="status"),)


class HandoverPayment(Base):
    """A cash payment (by its phone event id) covered by a handover."""

    __tablename__ = "handover_payment"

    handover_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cash_handover.id"), primary_key=True)
    payment_event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    amount: Mapped[Decimal]


class ClearanceCertificate(Base):
    """A paz y salvo issued for a client with zero balance at `as_of`. `code` is printed on the
    PDF and checked by the server's verification page."""

    __tablename__ = "clearance_certificate"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    as_of: Mapped[date]
    issued_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
