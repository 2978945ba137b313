"""Ingest of the `DisputeOpened` field event (issue 7), called by `events.Chunk.apply` in chunk
order. Returns None (applied) or a hold reason; never commits, never refuses money.

A dispute from the phone is stored open under the event's id, on the client's invoice of that
number, for the office to accept (credit note) or reject (server/services/disputes.py). What the
office must look at is still stored, and the event held (a review item):
- `invoice_unknown`: no invoice of that number for that client (stored with no invoice);
- `dispute_exceeds_balance`: more than the invoice's balance not already in open disputes;
- the client closed or reassigned (`client_closed`, `client_reassigned`).
A client unknown to this server is held with no row (a dispute needs a client).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from server.repositories import disputes as disputes_repo
from server.repositories.disputes import DisputedInvoice
from shared.money import ZERO
from sync.protocol import DisputeOpenedEvent, Event

if TYPE_CHECKING:
    from server.services.events import Chunk

INVOICE_UNKNOWN = "invoice_unknown"
EXCEEDS_BALANCE = "dispute_exceeds_balance"


def load(session: Session, events: Sequence[Event]) -> dict[tuple[uuid.UUID, str], DisputedInvoice]:
    """The invoices the chunk's disputes name (one query; none without disputes)."""
    keys = {
        (e.client_id, e.payload.invoice_number) for e in events if isinstance(e, DisputeOpenedEvent)
    }
    return disputes_repo.invoices_by_number(session, keys)


def opened(chunk: Chunk, event: DisputeOpenedEvent) -> str | None:
    reason = chunk.client_reason(event.client_id)
    if reason == "client_unknown":
        return reason
    p = event.payload
    invoice = chunk.dispute_invoices.get((event.client_id, p.invoice_number))
    if reason is None:
        if invoice is None:
            reason = INVOICE_UNKNOWN
        elif p.amount > _open_balance(chunk, invoice) - invoice.disputed:
            reason = EXCEEDS_BALANCE
    if invoice is not None:
        invoice.disputed += p.amount  # the chunk's later disputes on it see this one
    chunk.add_rows(
        "disputes",
        {
            "id": event.event_id,
            "client_id": event.client_id,
            "invoice_id": None if invoice is None else invoice.id,
            "invoice_number": p.invoice_number,
            "kind": p.kind,
            "amount": p.amount,
            "reason_code": p.reason_code,
            "notes": p.notes,
            "origin": "field",
            "event_id": event.event_id,
            "status": "open",
            "opened_by": chunk.ctx.user_id,
            "opened_at": chunk.ctx.received_at,
            "decided_by": None,
            "decided_at": None,
            "decision_note": "",
            "accepted_amount": None,
        },
    )
    return reason


def _open_balance(chunk: Chunk, invoice: DisputedInvoice) -> Decimal:
    """The invoice's balance after the chunk's earlier payments and voids."""
    return invoice.balance + chunk.ledger.invoice_moves.get(invoice.id, ZERO)
