"""Ingest of the `CashHandedOver` field event (issue 7), called by `events.Chunk.apply` in chunk
order. Returns None (applied) or a hold reason; never commits, never refuses money."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.protocol import CashHandedOverEvent

if TYPE_CHECKING:
    from server.services.events import Chunk


def handed_over(chunk: Chunk, event: CashHandedOverEvent) -> str | None:
    raise NotImplementedError("issue 7: being written")
