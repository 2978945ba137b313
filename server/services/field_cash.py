"""Ingest of the `cash.handed_over` field event (issue 7), called by `events.Chunk.apply` in chunk
order. Returns None (applied) or a hold reason; never commits, never refuses money.

A handover is always stored (`cash_handover`, id = the event's id, status `pending`) with one
`handover_payment` row per payment it names, so the supervisor sees what the collector said even
when it does not add up. It is applied when every named payment is a `payment.collected` of this
collector, in cash, not reversed and in no other pending or confirmed handover, and their amounts
add up to `amount`; otherwise it is held (`hold_reason` on the row, the event held, a review item
opened by the push) with the first problem found:

- `payment_unknown`: no such payment event from this collector on the server (nor earlier in the
  chunk);
- `payment_repeated`: the same payment named twice;
- `payment_not_cash`: a transfer, check or deposit is not cash in hand;
- `payment_voided`: its ledger entry was reversed, or its collector pushed a void of it (a void
  of money in suspense is held, yet the collector no longer counts that cash);
- `payment_already_handed_over`: in another pending/confirmed handover (or one earlier in the
  chunk);
- `reference_missing`: a bank deposit without its bank reference;
- `handover_mismatch`: the payments add up to another amount.

The named payments are read once per chunk (`load`, from `Chunk.load`: two queries); payments
pushed earlier in the same chunk count, from the chunk's own memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from server.repositories import cash as cash_repo
from server.repositories.cash import PaymentFacts
from shared.money import ZERO
from sync.protocol import CashHandedOverEvent, Event

if TYPE_CHECKING:
    from server.services.events import Chunk


def load(session: Session, events: Sequence[Event]) -> dict[uuid.UUID, PaymentFacts]:
    """The stored payments the chunk's handovers name (one query; none without a handover).
    Payments pushed in the same chunk are not stored yet: the chunk remembers them."""
    in_chunk = {e.event_id for e in events}
    named = {
        pid
        for e in events
        if isinstance(e, CashHandedOverEvent)
        for pid in e.payload.payment_event_ids
        if pid not in in_chunk
    }
    return cash_repo.payment_facts(session, named)


def handed_over(chunk: Chunk, event: CashHandedOverEvent) -> str | None:
    p, ctx = event.payload, chunk.ctx
    ids = list(dict.fromkeys(p.payment_event_ids))  # first mention order, each once
    facts = {i: _facts(chunk, i, chunk.handover_payments.get(i)) for i in ids}

    reason: str | None = None
    if len(ids) != len(p.payment_event_ids):
        reason = "payment_repeated"
    for pid in ids:
        reason = reason or _problem(facts[pid], ctx.user_id, pid in chunk.handed_over)
    if reason is None and p.method == "bank_deposit" and not p.bank_reference.strip():
        reason = "reference_missing"
    total = sum((f.amount or ZERO for f in facts.values() if f is not None), ZERO)
    if reason is None and total != p.amount:
        reason = "handover_mismatch"
    chunk.handed_over.update(ids)

    chunk.add_rows(
        "handovers",
        {
            "id": event.event_id,
            "event_id": event.event_id,
            "user_id": ctx.user_id,
            "device_id": ctx.device_id,
            "amount": p.amount,
            "method": p.method,
            "bank_reference": p.bank_reference.strip(),
            "deposited_on": p.deposited_on,
            "received_at": ctx.received_at,
            "status": "pending",
            "hold_reason": reason,
            "decided_by": None,
            "decided_at": None,
            "decision_note": "",
        },
    )
    chunk.add_rows(
        "handover_payments",
        *(
            {
                "handover_id": event.event_id,
                "payment_event_id": pid,
                "amount": _amount(facts[pid]),
            }
            for pid in ids
        ),
    )
    return reason


def _facts(chunk: Chunk, pid: uuid.UUID, stored: PaymentFacts | None) -> PaymentFacts | None:
    """The payment as pushed earlier in this chunk, or as the server has it; a void earlier in
    the chunk counts either way."""
    seen = chunk.collected.get(pid)
    voidable = chunk.payments.get(pid)
    voided_here = voidable is not None and voidable.reversed
    if seen is not None:
        return PaymentFacts(
            pid,
            seen.type,
            chunk.ctx.user_id,
            seen.payload.method,
            seen.payload.amount,
            voided_here,
            False,
        )
    if stored is not None and voided_here:
        return PaymentFacts(
            pid, stored.type, stored.user_id, stored.method, stored.amount, True, stored.handed_over
        )
    return stored


def _problem(facts: PaymentFacts | None, user_id: uuid.UUID, claimed: bool) -> str | None:
    if facts is None or facts.type != cash_repo.PAYMENT or facts.user_id != user_id:
        return "payment_unknown"
    if facts.method != "cash":
        return "payment_not_cash"
    if facts.reversed:
        return "payment_voided"
    if facts.handed_over or claimed:
        return "payment_already_handed_over"
    return None


def _amount(facts: PaymentFacts | None) -> Decimal:
    """What a handover_payment row records: the payment's amount (zero for an unknown one)."""
    if facts is None or facts.amount is None or facts.type != cash_repo.PAYMENT:
        return ZERO
    return facts.amount
