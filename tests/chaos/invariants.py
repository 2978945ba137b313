"""The sync invariants (sync-protocol.md, "What must be tested") checked after the network heals
and every outbox drained, across all the phones' databases and the server's. Each failed check is
a line in the returned list: the runs print them and the tests require none."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mobile.data.models import ClientMirror, OutboxRow
from mobile.services.exporting import event_body
from server.db.engine import make_engine, make_session_factory
from server.db.models import (
    Client,
    EventConflict,
    InboundEvent,
    Invoice,
    LedgerEntry,
    SuspenseEntry,
)
from server.repositories import ledger as ledger_repo
from sync.hashing import inbound_content_hash
from sync.protocol import MAX_EVENTS_PER_PUSH, read_push
from tests.chaos.phones import SimPhone

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PhoneEvent:
    type: str
    state: str
    content_hash: str
    amount: Decimal | None
    ref_event_id: str | None


def _phone_events(phone: SimPhone, problems: list[str]) -> dict[str, PhoneEvent]:
    with phone.phone.db() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.device_seq)).all()
        bodies = [event_body(row) for row in rows]
    out: dict[str, PhoneEvent] = {}
    envelope = {"protocol": 1, "device_id": phone.phone.device_id, "app_version": "x"}
    step = MAX_EVENTS_PER_PUSH
    for start in range(0, len(rows), step):
        inbound = read_push({**envelope, "events": bodies[start : start + step]}).events
        for row, received in zip(rows[start : start + step], inbound, strict=True):
            out[row.event_id] = PhoneEvent(
                row.type, row.state, inbound_content_hash(received), row.amount, row.ref_event_id
            )
    lost = set(phone.recorded) - set(out)
    if lost:
        problems.append(f"{phone.name}: {len(lost)} recorded events missing from the outbox")
    states = Counter(e.state for e in out.values())
    if states["pending"]:
        problems.append(f"{phone.name}: {states['pending']} rows still pending after healing")
    if states["conflict"]:
        problems.append(f"{phone.name}: {states['conflict']} rows answered conflict")
    return out


def check(server_url: str, phones: list[SimPhone]) -> list[str]:
    problems: list[str] = []
    on_phones: dict[str, PhoneEvent] = {}
    for phone in phones:
        on_phones |= _phone_events(phone, problems)
    engine = make_engine(server_url)
    try:
        with make_session_factory(engine)() as session:
            _check_server(session, on_phones, problems)
            for phone in phones:
                _check_mirror(session, phone, problems)
    finally:
        engine.dispose()
    return problems


def expected_events(
    device_id: str, events: Sequence[Mapping[str, Any]], states: Mapping[str, str]
) -> dict[str, PhoneEvent]:
    """What a device sent (wire events) as the checks see it; `states` maps an event_id to
    `acked` or `held` (what the push answered)."""
    envelope = {"protocol": 1, "device_id": device_id, "app_version": "x"}
    out: dict[str, PhoneEvent] = {}
    for start in range(0, len(events), MAX_EVENTS_PER_PUSH):
        chunk = list(events[start : start + MAX_EVENTS_PER_PUSH])
        for sent, received in zip(
            chunk, read_push({**envelope, "events": chunk}).events, strict=True
        ):
            payload = sent["payload"]
            amount = payload.get("amount") if sent["type"] != "payment.voided" else None
            out[sent["event_id"]] = PhoneEvent(
                sent["type"],
                states.get(sent["event_id"], "pending"),
                inbound_content_hash(received),
                Decimal(amount) if amount is not None else None,
                payload.get("payment_event_id"),
            )
    # A void's amount is its payment's (as on the phone's outbox row).
    for event_id, event in list(out.items()):
        if event.type == "payment.voided" and event.ref_event_id in out:
            target = out[event.ref_event_id]
            out[event_id] = PhoneEvent(
                event.type, event.state, event.content_hash, target.amount, event.ref_event_id
            )
    return out


def check_server(server_url: str, sent: Mapping[str, PhoneEvent]) -> list[str]:
    """The server-side invariants against what devices sent (no phone databases)."""
    problems = [f"{k}: still {v.state}" for k, v in sent.items() if v.state == "pending"][:10]
    engine = make_engine(server_url)
    try:
        with make_session_factory(engine)() as session:
            _check_server(session, dict(sent), problems)
    finally:
        engine.dispose()
    return problems


def _check_server(session: Session, phones: dict[str, PhoneEvent], problems: list[str]) -> None:
    rows = session.execute(
        select(InboundEvent.event_id, InboundEvent.content_hash, InboundEvent.status)
    ).all()
    inbound = {str(r.event_id): r for r in rows}
    if len(inbound) != len(rows):
        problems.append("an event_id is recorded twice in inbound_event")
    missing, phantom = set(phones) - set(inbound), set(inbound) - set(phones)
    if missing:
        problems.append(f"exactly once: {len(missing)} phone events never reached the server")
    if phantom:
        problems.append(f"no phantom events: {len(phantom)} server events no phone recorded")
    for event_id in set(phones) & set(inbound):
        mine, theirs = phones[event_id], inbound[event_id]
        if mine.content_hash != theirs.content_hash:
            problems.append(f"no phantom content: {event_id} differs from the phone's event")
        # A held event re-pushed after a lost answer comes back `duplicate`, which the phone
        # acks: only held-on-the-phone and applied-on-the-server must agree.
        if (mine.state == "held") != (theirs.status == "held") and (
            mine.state == "held" or theirs.status == "applied"
        ):
            problems.append(f"{event_id}: phone {mine.state}, server {theirs.status}")
    conflicts = session.scalar(select(func.count()).select_from(EventConflict)) or 0
    if conflicts:
        problems.append(f"{conflicts} conflicts recorded though no phone rewrote an event")
    _check_money(session, phones, {k: v.status for k, v in inbound.items()}, problems)
    _check_projections(session, problems)


def _check_money(
    session: Session, phones: dict[str, PhoneEvent], status: dict[str, str], problems: list[str]
) -> None:
    payments = {k: v for k, v in phones.items() if v.type == "payment.collected"}
    entries = session.execute(
        select(LedgerEntry.id, LedgerEntry.event_id, LedgerEntry.amount).where(
            LedgerEntry.kind == "payment", LedgerEntry.source == "sync"
        )
    ).all()
    suspense = session.execute(select(SuspenseEntry.event_id, SuspenseEntry.amount)).all()
    entry_ids = [str(e.event_id) for e in entries]
    suspense_ids = [str(s.event_id) for s in suspense]
    if len(set(entry_ids)) != len(entry_ids) or len(set(suspense_ids)) != len(suspense_ids):
        problems.append("exactly once: a payment was posted twice")
    if set(entry_ids) & set(suspense_ids):
        problems.append("exactly once: a payment is both on a client and in suspense")
    if set(entry_ids) | set(suspense_ids) != set(payments):
        problems.append(
            "exactly once: payment entries + suspense != the phones' payments "
            f"({len(entry_ids)} + {len(suspense_ids)} vs {len(payments)})"
        )
    on_phones = sum((p.amount or ZERO for p in payments.values()), ZERO)
    posted = -sum((e.amount for e in entries), ZERO) + sum((s.amount for s in suspense), ZERO)
    if on_phones != posted:
        problems.append(f"conservation: phones collected {on_phones}, server has {posted}")
    # Voids: each applied void reversed exactly its payment's amount, once.
    reversals = session.execute(
        select(LedgerEntry.amount, LedgerEntry.reverses_id).where(
            LedgerEntry.kind == "reversal", LedgerEntry.source == "sync"
        )
    ).all()
    applied_voids = [
        v for k, v in phones.items() if v.type == "payment.voided" and status.get(k) == "applied"
    ]
    reversed_ids = [str(r.reverses_id) for r in reversals]
    if len(reversed_ids) != len(set(reversed_ids)) or len(reversals) != len(applied_voids):
        problems.append(f"voids: {len(reversals)} reversals for {len(applied_voids)} applied voids")
    voided = sum((v.amount or ZERO for v in applied_voids), ZERO)
    if sum((r.amount for r in reversals), ZERO) != voided:
        problems.append(f"voids: reversals do not add up to the voided {voided}")


def _check_mirror(session: Session, phone: SimPhone, problems: list[str]) -> None:
    """Convergence: after healing, the phone's client mirror is the server's view of its
    collector's scope (the same clients, with the same balances)."""
    collector = uuid.UUID(phone.collector_id)
    server = {
        str(cid): balance
        for cid, balance in session.execute(
            select(Client.id, Client.balance).where(Client.collector_id == collector)
        )
    }
    with phone.phone.db() as local:
        rows = local.execute(select(ClientMirror.id, ClientMirror.balance)).all()
    mirror = {row.id: row.balance for row in rows}
    if set(mirror) != set(server):
        problems.append(
            f"convergence: {phone.name} mirrors {len(mirror)} clients, its scope has {len(server)}"
        )
    stale = [cid for cid in set(mirror) & set(server) if mirror[cid] != server[cid]]
    if stale:
        problems.append(f"convergence: {phone.name} has {len(stale)} stale client balances")


def _check_projections(session: Session, problems: list[str]) -> None:
    by_client = ledger_repo.recomputed_client_balances(session)
    for client_id, balance in session.execute(select(Client.id, Client.balance)):
        if balance != by_client.get(client_id, ZERO):
            problems.append(f"projection: client {client_id} balance {balance} != entries")
    by_invoice = ledger_repo.recomputed_invoice_balances(session)
    for invoice_id, balance in session.execute(select(Invoice.id, Invoice.balance)):
        if balance != by_invoice.get(invoice_id, ZERO):
            problems.append(f"projection: invoice {invoice_id} balance {balance} != allocations")
