"""Ingest of the `AgreementProposed` field event (issue 7), called by `events.Chunk.apply` in chunk
order. Returns None (applied) or a hold reason; never commits, never refuses money."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sync.protocol import AgreementProposedEvent

if TYPE_CHECKING:
    from server.services.events import Chunk


def proposed(chunk: Chunk, event: AgreementProposedEvent) -> str | None:
    raise NotImplementedError("issue 7: being written")
