"""The invariants of sync-protocol.md ("What must be tested"), checked between the phones'
outboxes and the server's tables. `check_always` holds after every step, whatever the network
did; `check_quiescent` after the network healed and every phone synced."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from mobile.data.models import OutboxRow
from mobile.services.device import pending_count
from mobile.services.exporting import event_body
from server.db.models import InboundEvent, LedgerEntry, SuspenseEntry
from sync.hashing import event_content_hash
from sync.protocol import Event
from tests.server.sync_helpers import check_invariants as check_server_ledger
from tests.sync.rig import Phone

_EVENT = TypeAdapter(Event)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Row:
    """One outbox row, detached from its phone session."""

    phone: str
    event_id: str
    type: str
    state: str
    amount: Decimal | None
    ref_event_id: str | None
    server_seq: int | None
    content_hash: str


def phone_rows(phones: Iterable[Phone]) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for phone in phones:
        with phone.db() as session:
            for r in session.scalars(select(OutboxRow)):
                assert r.event_id not in rows, f"{r.event_id} is in two outboxes"
                content = event_content_hash(_EVENT.validate_python(event_body(r)))
                rows[r.event_id] = Row(
                    phone.name,
                    r.event_id,
                    r.type,
                    r.state,
                    r.amount,
                    r.ref_event_id,
                    r.server_seq,
                    content,
                )
    return rows


def outbox_snapshot(phone: Phone) -> list[tuple[Any, ...]]:
    """Every outbox row, every column: what a restart or an upgrade must keep as it is."""
    columns = [c.key for c in OutboxRow.__table__.columns]
    with phone.db() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.device_seq))
        return [tuple(getattr(r, c) for c in columns) for r in rows]


def _server_events(session: Session) -> dict[str, InboundEvent]:
    return {str(e.event_id): e for e in session.scalars(select(InboundEvent))}


def check_always(session: Session, phones: list[Phone], injected: Mapping[str, Any]) -> None:
    """Holds at every moment, faults or not."""
    check_server_ledger(session)  # projections = entries; inbound payments = entries + suspense
    rows = phone_rows(phones)
    server = _server_events(session)
    for row in rows.values():
        # A correct phone never gets a conflict: its content never changes.
        assert row.state != "conflict", f"{row.phone}: {row.event_id} answered conflict"
        if row.state in ("acked", "held"):
            # Acknowledged means durably recorded, with this content and this server_seq.
            seen = server.get(row.event_id)
            assert seen is not None, f"{row.phone}: acked {row.event_id} is not on the server"
            assert seen.content_hash == row.content_hash, f"{row.event_id}: other content"
            assert seen.server_seq == row.server_seq
            if row.state == "held":
                assert seen.status == "held"
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.event_id.is_not(None))).all()
    suspense = session.scalars(select(SuspenseEntry)).all()
    for eid, seen in server.items():
        row = rows.get(eid)
        if row is None:
            # Not from any phone: only what was slipped in at the wire, never with money.
            assert eid in injected, f"phantom event {eid} on the server"
            assert seen.status == "held", f"injected {eid} was {seen.status}"
        else:
            # No phantom money: the server recorded exactly what the phone holds.
            assert seen.content_hash == row.content_hash, f"{eid}: content differs from phone"
    by_event = {str(e.event_id): e for e in entries}
    for eid, entry in by_event.items():
        row = rows.get(eid)
        assert row is not None and row.type == "payment.collected", f"entry {eid} has no payment"
        assert row.amount == -entry.amount, f"{eid}: {row.amount} on the phone, {entry.amount}"
    for s in suspense:
        row = rows.get(str(s.event_id))
        assert row is not None and row.amount == s.amount, f"suspense {s.event_id} has no payment"


def check_quiescent(session: Session, phones: list[Phone]) -> None:
    """After healing and syncing: nothing pending, and every payment in the ledger exactly once."""
    for phone in phones:
        with phone.db() as s:
            assert pending_count(s) == 0, f"{phone.name}: rows still pending after two cycles"
    rows = phone_rows(phones)
    payments = {eid: r for eid, r in rows.items() if r.type == "payment.collected"}
    entries = session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == "payment", LedgerEntry.source == "sync")
    ).all()
    suspense = session.scalars(select(SuspenseEntry)).all()
    posted = [str(e.event_id) for e in entries]
    parked = [str(s.event_id) for s in suspense]
    # 1. exactly once: every payment of every phone is one entry or one suspense row, no more.
    assert len(posted) == len(set(posted)) and not set(posted) & set(parked)
    assert set(posted) | set(parked) == set(payments)
    # 3. conservation: collected on phones = ledger payments + suspense.
    on_phones = sum((r.amount or ZERO for r in payments.values()), ZERO)
    in_ledger = -sum((e.amount for e in entries), ZERO) + sum((s.amount for s in suspense), ZERO)
    assert on_phones == in_ledger, f"{on_phones} collected, {in_ledger} on the server"
    _check_voids(session, rows, {str(e.event_id): e for e in entries}, set(parked))


def _check_voids(
    session: Session, rows: dict[str, Row], entries: dict[str, LedgerEntry], parked: set[str]
) -> None:
    """A phone's void reverses its own payment exactly once (held when that money is in
    suspense, where there is no entry to reverse)."""
    server = _server_events(session)
    reversals = session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == "reversal", LedgerEntry.source == "sync")
    ).all()
    reversed_ids = [r.reverses_id for r in reversals]
    assert len(reversed_ids) == len(set(reversed_ids)), "an entry was reversed twice"
    for row in rows.values():
        if row.type != "payment.voided":
            continue
        assert row.ref_event_id is not None
        seen = server[row.event_id]
        if row.ref_event_id in parked:
            assert (seen.status, seen.reason) == ("held", "payment_in_suspense")
            continue
        assert (seen.status, seen.reason) == ("applied", None), (
            f"void {row.event_id} of {row.ref_event_id}: {seen.status} {seen.reason}"
        )
        assert entries[row.ref_event_id].id in reversed_ids
    voids = sum(
        1 for r in rows.values() if r.type == "payment.voided" and r.ref_event_id not in parked
    )
    assert len(reversals) == voids
