"""Statement of account (estado de cuenta) at a date, rebuilt from the ledger entries effective on
or before that date: never from today's projections, so a past statement stays what it was."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from server.repositories import clients as clients_repo
from server.services.access import Actor
from server.services.clients import client_ref, visible_client
from shared.aging import DEFAULT_EDGES
from shared.clients import InvoiceLine, Statement, StatementEntry, invoice_line, overdue_and_worst
from shared.money import ZERO


def client_statement(
    session: Session,
    actor: Actor,
    client_id: uuid.UUID,
    *,
    as_of: date,
    edges: Sequence[int] = DEFAULT_EDGES,
) -> Statement:
    """Every entry up to `as_of` with its running balance, and the invoices still open on that
    date with the balances their allocations add up to."""
    client, collector = visible_client(session, actor, client_id)
    entries = clients_repo.entries_until(session, client.id, as_of)
    allocations = clients_repo.allocations_until(session, client.id, as_of)

    numbers: dict[uuid.UUID, list[str]] = defaultdict(list)
    balances: dict[uuid.UUID, Decimal] = defaultdict(lambda: ZERO)
    invoices: dict[uuid.UUID, clients_repo.AllocationRow] = {}
    unapplied = ZERO
    for a in allocations:
        if a.invoice_id is None:
            unapplied += a.amount
            continue
        balances[a.invoice_id] += a.amount
        invoices.setdefault(a.invoice_id, a)
        if a.number is not None and a.number not in numbers[a.entry_id]:
            numbers[a.entry_id].append(a.number)

    lines: list[InvoiceLine] = []
    for invoice_id, balance in balances.items():
        row = invoices[invoice_id]
        if balance == ZERO or row.number is None or row.due_date is None:
            continue
        lines.append(
            invoice_line(
                number=row.number,
                issue_date=row.issue_date,
                due_date=row.due_date,
                amount=row.invoice_amount or ZERO,
                balance=balance,
                as_of=as_of,
                edges=edges,
            )
        )
    lines.sort(key=lambda line: (line.due_date, line.number))

    running = ZERO
    statement_entries: list[StatementEntry] = []
    for e in entries:
        running += e.amount
        statement_entries.append(
            StatementEntry.model_validate(
                {
                    "id": e.id,
                    "date": e.effective_date,
                    "kind": e.kind,
                    "amount": e.amount,
                    "running_balance": running,
                    "reason": e.reason,
                    "source": e.source,
                    "invoice_numbers": numbers.get(e.id, []),
                    "reverses_id": e.reverses_id,
                }
            )
        )
    overdue, _ = overdue_and_worst(lines, edges)
    return Statement(
        client=client_ref(client, collector),
        as_of=as_of,
        invoices=lines,
        entries=statement_entries,
        balance=running,
        overdue_balance=overdue,
        unapplied_credit=-unapplied,
    )
