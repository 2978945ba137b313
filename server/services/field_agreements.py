"""Ingest of the `AgreementProposed` field event (issue 7), called by `events.Chunk.apply` in chunk
order. Returns None (applied) or a hold reason; never commits, never refuses money.

A proposal becomes a `payment_agreement` row with status `proposed`, origin `field`, its id the
event's id (a retried push finds the same row: the event is a duplicate, nothing is written twice),
and its installments; the office approves or rejects it (server/services/agreements.py).
Held (recorded, a review item opened, status `held` back to the phone):
- `client_unknown`: no rows at all, since an agreement must reference a client this server knows;
  the event and its review item keep the whole proposal for a supervisor to re-enter;
- `client_closed` / `client_reassigned`: the proposal is stored (the client agreed to it) and the
  supervisor decides;
- `agreement_invalid`: due dates not strictly increasing, the first due before the device's business
  day minus shared.agreements.PAST_DAYS (a proposal is about the future), the last one more than
  HORIZON_DAYS ahead, or a total out of range (shared.agreements.check_proposal): no rows.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

# A module import: events imports this module while it loads (dispatch), so look names up late.
from server.services import events
from shared.agreements import INVALID, Installment, check_proposal
from shared.errors import InvalidInput
from sync.protocol import AgreementProposedEvent

if TYPE_CHECKING:
    from server.services.events import Chunk


def proposed(chunk: Chunk, event: AgreementProposedEvent) -> str | None:
    ctx = chunk.ctx
    day = events.effective_date(event.device_time, ctx.received_at, ctx.tz)
    schedule = [Installment(i.due_date, i.amount) for i in event.payload.installments]
    try:
        total = check_proposal(schedule, day)
    except InvalidInput:
        return INVALID
    reason = chunk.client_reason(event.client_id)
    if reason == "client_unknown":
        return reason
    chunk.add_rows(
        "agreements",
        {
            "id": event.event_id,
            "client_id": event.client_id,
            "origin": "field",
            "event_id": event.event_id,
            "status": "proposed",
            "total": total,
            "notes": event.payload.notes,
            "proposed_by": ctx.user_id,
            "proposed_at": _proposed_at(event.device_time, ctx.received_at, ctx.tz, day),
            "decided_by": None,
            "decided_at": None,
            "decision_note": "",
        },
    )
    chunk.add_rows(
        "installments",
        *(
            {
                "agreement_id": event.event_id,
                "seq": n,
                "due_date": item.due_date,
                "amount": item.amount,
            }
            for n, item in enumerate(schedule, start=1)
        ),
    )
    return reason


def _proposed_at(device_time: datetime, received_at: datetime, tz: tzinfo, day: date) -> datetime:
    """The device's time when its clock is plausible (then `day`, the business day money starts to
    count from, is the device's), else the server's receipt, like a payment's accounting date."""
    return device_time if device_time.astimezone(tz).date() == day else received_at
