"""The invariants of sync-protocol.md ("What must be tested"), checked between the phones'
outboxes and the server's tables. `check_always` holds after every step, whatever the network
did; `check_quiescent` after the network healed and every phone synced."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from mobile.data.models import CashHandoverRow, ClientMirror, EventStatus, OutboxRow
from mobile.services.balances import visible_balances
from mobile.services.cash import cash_in_hand as phone_cash_in_hand
from mobile.services.device import pending_count
from mobile.services.exporting import event_body
from server.db.models import (
    AgreementInstallment,
    CashHandover,
    CreditNote,
    Dispute,
    HandoverPayment,
    InboundEvent,
    LedgerEntry,
    PaymentAgreement,
    SuspenseEntry,
)
from server.repositories import cash as cash_repo
from sync.hashing import event_content_hash
from sync.protocol import ClientData, Event, EventStatusData, PullResponse
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


def _row(phone: str, r: OutboxRow) -> Row:
    content = event_content_hash(_EVENT.validate_python(event_body(r)))
    return Row(phone, r.event_id, r.type, r.state, r.amount, r.ref_event_id, r.server_seq, content)


def phone_rows(phones: Iterable[Phone]) -> dict[str, Row]:
    """Every outbox row of every phone, by event_id."""
    rows: dict[str, Row] = {}
    for phone in phones:
        with phone.db() as session:
            for r in session.scalars(select(OutboxRow)):
                assert r.event_id not in rows, f"{r.event_id} is in two outboxes"
                rows[r.event_id] = _row(phone.name, r)
    return rows


def recorded_row(phone: Phone, event_id: str) -> Row:
    """The row a field action just wrote, as the test remembers it (acked rows are purged
    from the outbox after a while; the test's memory is not)."""
    with phone.db() as session:
        r = session.get(OutboxRow, event_id)
        assert r is not None and r.state == "pending"
        return _row(phone.name, r)


def outbox_snapshot(phone: Phone) -> list[tuple[Any, ...]]:
    """Every outbox row, every column: what a restart or an upgrade must keep as it is."""
    columns = [c.key for c in OutboxRow.__table__.columns]
    with phone.db() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.device_seq))
        return [tuple(getattr(r, c) for c in columns) for r in rows]


def _server_events(session: Session) -> dict[str, InboundEvent]:
    return {str(e.event_id): e for e in session.scalars(select(InboundEvent))}


def check_always(
    session: Session,
    phones: list[Phone],
    recorded: Mapping[str, Row],
    injected: Mapping[str, Any],
) -> None:
    """Holds at every moment, faults or not. `recorded`: every event the phones' field actions
    wrote; `injected`: event ids slipped in at the wire."""
    check_server_ledger(session)  # projections = entries; inbound payments = entries + suspense
    rows = phone_rows(phones)
    server = _server_events(session)
    for eid, row in rows.items():
        # 7. the outbox keeps what was written, byte for byte (same content hash), on its phone.
        first = recorded.get(eid)
        assert first is not None, f"{row.phone}: outbox row {eid} was never recorded"
        assert (row.phone, row.content_hash) == (first.phone, first.content_hash)
        # A correct phone never gets a conflict: its content never changes.
        assert row.state != "conflict", f"{row.phone}: {eid} answered conflict"
        if row.state in ("acked", "held"):
            # Acknowledged means durably recorded, with this content and this server_seq.
            seen = server.get(eid)
            assert seen is not None, f"{row.phone}: acknowledged {eid} is not on the server"
            assert seen.server_seq == row.server_seq
            # The phone shows held exactly what the server holds, even after a lost answer.
            assert (row.state == "held") == (seen.status == "held"), f"{eid}: {row.state}"
    for eid in recorded.keys() - rows.keys():
        # Only acknowledged rows ever leave an outbox (the 30-day purge).
        assert eid in server, f"{recorded[eid].phone}: {eid} left the outbox, not on the server"
    for eid, seen in server.items():
        first = recorded.get(eid)
        if first is None:
            # Not from any phone: only what was slipped in at the wire, never with money.
            assert eid in injected, f"phantom event {eid} on the server"
            assert seen.status == "held", f"injected {eid} was {seen.status}"
        else:
            # 2. no phantom money: the server recorded exactly what the phone wrote.
            assert seen.content_hash == first.content_hash, f"{eid}: content differs from phone"
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.event_id.is_not(None)))
    for entry in entries:
        first = recorded.get(str(entry.event_id))
        assert first is not None and first.type == "payment.collected", f"{entry.event_id}?"
        assert first.amount == -entry.amount, f"{entry.event_id}: {first.amount} on the phone"
    for s in session.scalars(select(SuspenseEntry)):
        first = recorded.get(str(s.event_id))
        assert first is not None and first.amount == s.amount, f"suspense {s.event_id}?"


def check_quiescent(session: Session, phones: list[Phone], rows: Mapping[str, Row]) -> None:
    """After healing and syncing: nothing pending, and every payment in the ledger exactly once."""
    for phone in phones:
        with phone.db() as s:
            assert pending_count(s) == 0, f"{phone.name}: rows still pending after two cycles"
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
    session: Session, rows: Mapping[str, Row], entries: dict[str, LedgerEntry], parked: set[str]
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


Scope = dict[str, tuple[int, ClientData]]
Statuses = dict[str, tuple[str, str]]


def _server_scope(server: httpx.Client, phone: Phone) -> tuple[Scope, Statuses]:
    """The server's view of a phone's scope: a first sync from an empty cursor, every page."""
    scope: Scope = {}
    statuses: Statuses = {}
    cursor, more = "", True
    while more:
        r = server.get(
            "/v1/sync/pull", params={"cursor": cursor, "limit": 1000}, headers=phone.headers
        )
        assert r.status_code == 200, r.text
        page = PullResponse.model_validate_json(r.content)
        for change in page.changes:
            if change.entity == "event_status":
                if change.op == "remove":
                    statuses.pop(change.id, None)
                else:
                    data = EventStatusData.model_validate(change.data or {})
                    statuses[change.id] = (data.status, data.note)
            elif change.op == "remove":
                scope.pop(change.id, None)
            else:
                assert change.version is not None
                scope[change.id] = (change.version, ClientData.model_validate(change.data or {}))
        cursor, more = page.next_cursor, page.has_more
    return scope, statuses


def _mirrored(row: ClientMirror) -> ClientData:
    return ClientData.model_validate(
        {
            "code": row.code,
            "name": row.name,
            "segment": row.segment,
            "address": row.address,
            "city": row.city,
            "lat": row.lat,
            "lon": row.lon,
            "phones": row.phones,
            "channels": row.channels,
            "status": row.status,
            "balance": row.balance,
            "invoices": row.open_invoices,
            "promises": row.promises,
            "visits": row.visits,
            "agreements": row.agreements,
            "disputes": row.disputes,
            "legal": row.legal,
        }
    )


def check_converged(server: httpx.Client, phone: Phone) -> None:
    """5. After healing, the phone's client table and event statuses are the server's view of
    its scope, and the balance it shows is the server's (every acknowledged payment reflected)."""
    expected, statuses = _server_scope(server, phone)
    with phone.db() as session:
        mine = {e.event_id: (e.status, e.note) for e in session.scalars(select(EventStatus))}
        assert mine == statuses, f"{phone.name}: event statuses differ from the server's"
        mirror = {row.id: row for row in session.scalars(select(ClientMirror))}
        shown = visible_balances(session)
        assert mirror.keys() == expected.keys(), f"{phone.name}: other clients than the server's"
        for cid, row in mirror.items():
            version, data = expected[cid]
            assert (row.version, _mirrored(row)) == (version, data), f"{phone.name}: {cid} differs"
            assert shown[cid] == row.balance, f"{phone.name}: {cid} shows {shown[cid]}"


# --- collections work beyond the visit (issue 7) -----------------------------------------------

WORK_TYPES = ("agreement.proposed", "dispute.opened", "cash.handed_over")
# Held with no row: an agreement or dispute needs a client this server knows; an invalid schedule
# is refused whole. Every other held one is stored for the supervisor.
_NO_ROW = {
    "agreement.proposed": {"client_unknown", "agreement_invalid"},
    "dispute.opened": {"client_unknown"},
    "cash.handed_over": set(),
}


def check_collections_work(session: Session) -> None:
    """Every agreement, dispute and handover event lands exactly once: one row under its event
    id (or, held, the row its reason allows), with what the phone sent; no row without its
    event; no payment in two live handovers; credit notes are separate adjustments."""
    events = {
        e.event_id: e
        for e in session.scalars(select(InboundEvent).where(InboundEvent.type.in_(WORK_TYPES)))
    }
    stored: dict[str, dict[uuid.UUID, Any]] = {
        "agreement.proposed": {
            a.id: a
            for a in session.scalars(
                select(PaymentAgreement).where(PaymentAgreement.origin == "field")
            )
        },
        "dispute.opened": {
            d.id: d for d in session.scalars(select(Dispute).where(Dispute.origin == "field"))
        },
        "cash.handed_over": {h.id: h for h in session.scalars(select(CashHandover))},
    }
    for kind, rows in stored.items():
        for rid, row in rows.items():
            seen = events.get(rid)
            assert seen is not None and seen.type == kind, f"{kind} row {rid} without its event"
            assert row.event_id == rid
    installments: dict[uuid.UUID, list[tuple[Any, Decimal]]] = defaultdict(list)
    for i in session.scalars(select(AgreementInstallment).order_by(AgreementInstallment.seq)):
        installments[i.agreement_id].append((i.due_date, i.amount))
    lines: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for line in session.scalars(select(HandoverPayment)):
        lines[line.handover_id].add(line.payment_event_id)
    for eid, e in events.items():
        payload = e.raw["payload"]
        row = stored[e.type].get(eid)
        expected = e.status == "applied" or e.reason not in _NO_ROW[e.type]
        assert (row is not None) == expected, f"{e.type} {eid} ({e.status} {e.reason}): {row}"
        if row is None:
            continue
        if e.type == "agreement.proposed":
            sent = [
                (date.fromisoformat(i["due_date"]), Decimal(i["amount"]))
                for i in payload["installments"]
            ]
            assert installments[eid] == sent
            assert row.total == sum((a for _, a in sent), ZERO)
        elif e.type == "dispute.opened":
            assert (row.amount, row.invoice_number) == (
                Decimal(payload["amount"]),
                payload["invoice_number"],
            )
        else:
            assert row.amount == Decimal(payload["amount"])
            assert lines[eid] == {uuid.UUID(p) for p in payload["payment_event_ids"]}
            assert row.hold_reason == e.reason
    live = Counter(
        pid
        for hid, h in stored["cash.handed_over"].items()
        if h.hold_reason is None and h.status in ("pending", "confirmed")
        for pid in lines[hid]
    )
    assert all(n == 1 for n in live.values()), "a payment is in two live handovers"
    _check_credit_notes(session, stored["dispute.opened"])


def _check_credit_notes(session: Session, field_disputes: dict[uuid.UUID, Any]) -> None:
    """A credit note is its own manual adjustment (no phone event, never a payment) of the
    accepted amount; an accepted dispute has exactly one."""
    notes = session.scalars(select(CreditNote)).all()
    by_dispute = Counter(n.dispute_id for n in notes if n.dispute_id is not None)
    for note in notes:
        entry = session.get(LedgerEntry, note.entry_id)
        assert entry is not None
        assert (entry.kind, entry.source, entry.event_id) == ("adjustment", "manual", None)
        assert entry.amount < 0 and entry.client_id == note.client_id
        if note.dispute_id is not None:
            dispute = session.get(Dispute, note.dispute_id)
            assert dispute is not None and dispute.status == "accepted"
            assert -entry.amount == dispute.accepted_amount
    for dispute in field_disputes.values():
        assert by_dispute.get(dispute.id, 0) == (1 if dispute.status == "accepted" else 0)


def check_cash_in_hand(session: Session, phones: list[Phone], users: Mapping[str, Any]) -> None:
    """After healing: each collector's cash in hand on the server is what their phones show
    (their cash payments, not voided, not in a handover the server has not rejected), and
    every handover a phone made was applied (a correct phone's handover adds up)."""
    by_user: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for phone in phones:
        with phone.db() as s:
            for p in phone_cash_in_hand(s):
                by_user[phone.username][p.event_id] = p.amount
            made = [r.event_id for r in s.scalars(select(CashHandoverRow))]
        for eid in made:
            seen = session.scalar(
                select(InboundEvent).where(InboundEvent.event_id == uuid.UUID(eid))
            )
            assert seen is not None and (seen.status, seen.reason) == ("applied", None), (
                f"{phone.name}: handover {eid} was {seen and (seen.status, seen.reason)}"
            )
    for username in {phone.username for phone in phones}:
        server = {
            str(r.event_id): r.amount for r in cash_repo.cash_in_hand(session, users[username].id)
        }
        assert server == by_user[username], f"{username}: cash in hand differs"
