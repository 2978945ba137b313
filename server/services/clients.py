"""Client use cases: the office's list and detail, a collector's own clients, and assignment.
Never commits (the route does)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from server.db.models import AuditLog, Client, Invoice
from server.repositories import clients as clients_repo
from server.services import changes
from server.services.access import Actor, check_client_visible, require_office
from shared.aging import DEFAULT_EDGES
from shared.clients import (
    ClientDetail,
    ClientPage,
    ClientRef,
    ClientSummary,
    InvoiceLine,
    due_date_range,
    invoice_line,
    matches_search,
    overdue_and_worst,
)
from shared.errors import InvalidInput, NotFound

MAX_PAGE = 500


def visible_client(
    session: Session, actor: Actor, client_id: uuid.UUID
) -> tuple[Client, str | None]:
    """The client and its collector's username, if `actor` may see it; else `client_not_found`."""
    found = clients_repo.get_client(session, client_id)
    if found is None:
        raise NotFound("no such client", code="client_not_found")
    check_client_visible(actor, found[0].collector_id)
    return found


def client_ref(client: Client, collector: str | None) -> ClientRef:
    return ClientRef.model_validate(_ref_fields(client, collector))


def _ref_fields(client: Client, collector: str | None) -> dict[str, Any]:
    return {
        "id": client.id,
        "code": client.code,
        "name": client.name,
        "tax_id": client.tax_id,
        "segment": client.segment,
        "collector": collector,
        "status": client.status,
    }


def _lines(invoices: Sequence[Invoice], today: date, edges: Sequence[int]) -> list[InvoiceLine]:
    return [
        invoice_line(
            number=i.number,
            issue_date=i.issue_date,
            due_date=i.due_date,
            amount=i.amount,
            balance=i.balance,
            as_of=today,
            edges=edges,
        )
        for i in invoices
    ]


def _summary_fields(
    client: Client, collector: str | None, lines: list[InvoiceLine], edges: Sequence[int]
) -> dict[str, Any]:
    overdue, worst = overdue_and_worst(lines, edges)
    return {
        **_ref_fields(client, collector),
        "balance": client.balance,
        "overdue_balance": overdue,
        "worst_bucket": worst,
    }


def list_clients(
    session: Session,
    actor: Actor,
    *,
    today: date,
    edges: Sequence[int] = DEFAULT_EDGES,
    collector: str | None = None,
    segment: str | None = None,
    bucket: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ClientPage:
    """The clients `actor` may see, filtered, ordered by code. A collector always gets their own
    clients only, whatever `collector` says. `bucket` keeps clients with an open invoice in that
    aging bucket on `today`; `q` matches code, name or tax id ignoring case and accents."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"limit must be 1..{MAX_PAGE} and offset >= 0")
    due_between = None
    if bucket:
        try:
            due_between = due_date_range(bucket, today, edges)
        except ValueError as exc:
            raise InvalidInput(str(exc), code="unknown_bucket") from exc
    f = clients_repo.ClientFilter(
        collector_id=None if actor.is_office else actor.user_id,
        collector_username=collector if actor.is_office and collector else None,
        segment=segment,
        due_between=due_between,
    )
    if q and q.strip():
        matched = [
            key
            for key, code, name, tax_id in clients_repo.search_keys(session, f)
            if matches_search(q, code=code, name=name, tax_id=tax_id)
        ]
        total = len(matched)
        rows = clients_repo.clients_by_ids(session, matched[offset : offset + limit])
    else:
        rows, total = clients_repo.search_clients(session, f, limit=limit, offset=offset)
    by_client: dict[uuid.UUID, list[Invoice]] = defaultdict(list)
    for invoice in clients_repo.open_invoices(session, [c.id for c, _ in rows]):
        by_client[invoice.client_id].append(invoice)
    items = [
        ClientSummary.model_validate(
            _summary_fields(c, u, _lines(by_client[c.id], today, edges), edges)
        )
        for c, u in rows
    ]
    return ClientPage(items=items, total=total, limit=limit, offset=offset)


def client_detail(
    session: Session,
    actor: Actor,
    client_id: uuid.UUID,
    *,
    today: date,
    edges: Sequence[int] = DEFAULT_EDGES,
) -> ClientDetail:
    """Contact data, balance and open invoices (aged on `today`) of one visible client."""
    client, collector = visible_client(session, actor, client_id)
    lines = _lines(clients_repo.open_invoices(session, [client.id]), today, edges)
    return ClientDetail.model_validate(
        {
            **_summary_fields(client, collector, lines, edges),
            "address": client.address,
            "city": client.city,
            "lat": client.lat,
            "lon": client.lon,
            "phones": client.phones,
            "channels": client.channels,
            "version": client.version,
            "unapplied_credit": clients_repo.unapplied_credit(session, client.id),
            "invoices": lines,
        }
    )


def assign_collector(
    session: Session,
    actor: Actor,
    client_id: uuid.UUID,
    *,
    collector: str | None,
    today: date,
    edges: Sequence[int] = DEFAULT_EDGES,
) -> ClientDetail:
    """Give the client to an active collector (or to nobody), bumping its version and leaving an
    audit row. Assigning the current collector again changes nothing."""
    require_office(actor)
    client, old = visible_client(session, actor, client_id)
    new_id: uuid.UUID | None = None
    if collector is not None:
        user = clients_repo.active_collector(session, collector)
        if user is None:
            raise InvalidInput(
                f"{collector!r} is not an active collector",
                code="unknown_collector",
                details={"collector": collector},
            )
        new_id = user.id
    if new_id != client.collector_id:
        old_id = client.collector_id
        client.collector_id = new_id
        session.add(
            AuditLog(
                actor_id=actor.user_id,
                action="client.assign",
                entity="client",
                entity_id=str(client.id),
                details={"old": old, "new": collector},
            )
        )
        session.flush()
        # Last in the transaction: remove from the old scope, full put (version bumped) to the new.
        changes.client_reassigned(session, client.id, old_id, new_id)
        session.refresh(client)
    return client_detail(session, actor, client_id, today=today, edges=edges)
