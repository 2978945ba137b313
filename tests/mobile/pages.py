"""Builders of pull pages for the phone's tests (the wire models, as the server sends them)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sync.checksum import scope_checksum
from sync.protocol import Change, ClientData, PullResponse, ScopeChecksum


def client_data(code: str = "C-1", balance: str = "100000.00", **fields: Any) -> dict[str, Any]:
    name = fields.pop("name", f"Cliente {code}")
    data = ClientData(code=code, name=name, balance=Decimal(balance), **fields)
    return data.model_dump(mode="json", exclude_defaults=True)


def put(
    client_id: str, version: int, seq: int, balance: str = "100000.00", **fields: Any
) -> Change:
    data = client_data(balance=balance, **fields)
    return Change(seq=seq, entity="client", id=client_id, op="put", version=version, data=data)


def remove(client_id: str, seq: int) -> Change:
    return Change(seq=seq, entity="client", id=client_id, op="remove", reason="reassigned")


def status(event_id: str, seq: int, value: str = "held", note: str = "") -> Change:
    data = {"status": value, "note": note}
    return Change(seq=seq, entity="event_status", id=event_id, op="put", data=data)


def checksum_of(clients: dict[str, tuple[int, str]]) -> ScopeChecksum:
    """The server's checksum for a scope of {client id: (version, balance)}."""
    return scope_checksum((uuid.UUID(c), v, Decimal(b)) for c, (v, b) in clients.items())


def page(
    *changes: Change,
    cursor: str = "c1",
    more: bool = False,
    epoch: str = "epoch-1",
    checksum: ScopeChecksum | None = None,
) -> PullResponse:
    return PullResponse(
        server_epoch=epoch,
        changes=changes,
        next_cursor=cursor,
        has_more=more,
        scope_checksum=checksum,
    )
