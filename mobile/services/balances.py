"""The balance a collector sees: the server's balance (as of the last pull) minus the payments
the server has not reflected yet, plus voids not reflected yet, so a payment never shows as
"un-paid" while it syncs.

An event is reflected once it was acknowledged with a `server_seq` no later than the change that
last wrote the client's mirror row (`client.change_seq`). Pending, conflict, and acknowledged
rows without a server_seq (e.g. held to suspense) keep counting until then: the collector holds
that cash either way.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from mobile.data.models import ClientMirror, OutboxRow
from shared.errors import NotFound
from shared.money import ZERO, money


def _unreflected_delta(session: Session, client_ids: list[str] | None) -> dict[str, Decimal]:
    # Amounts are cents in SQL; the Money type of the first branch turns the sum back.
    signed = case(
        (OutboxRow.type == "payment.collected", -OutboxRow.amount),
        (OutboxRow.type == "payment.voided", OutboxRow.amount),
        else_=0,
    )
    query = (
        select(OutboxRow.client_id, func.sum(signed))
        .join(ClientMirror, ClientMirror.id == OutboxRow.client_id)
        .where(
            OutboxRow.type.in_(("payment.collected", "payment.voided")),
            or_(
                OutboxRow.server_seq.is_(None),
                OutboxRow.state.in_(("pending", "conflict")),
                OutboxRow.server_seq > ClientMirror.change_seq,
            ),
        )
        .group_by(OutboxRow.client_id)
    )
    if client_ids is not None:
        query = query.where(OutboxRow.client_id.in_(client_ids))
    return {cid: total for cid, total in session.execute(query) if total is not None}


def visible_balances(session: Session) -> dict[str, Decimal]:
    """Every mirrored client's visible balance, by client id."""
    deltas = _unreflected_delta(session, None)
    return {
        cid: money(balance + deltas.get(cid, ZERO))
        for cid, balance in session.execute(select(ClientMirror.id, ClientMirror.balance))
    }


def visible_balance(session: Session, client_id: str) -> Decimal:
    client = session.get(ClientMirror, client_id)
    if client is None:
        raise NotFound("cliente no encontrado en este teléfono", code="client_not_found")
    delta = _unreflected_delta(session, [client_id]).get(client_id, ZERO)
    return money(client.balance + delta)
