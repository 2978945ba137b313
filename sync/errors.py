"""Errors of the sync protocol that are neither bad input nor a size limit."""

from __future__ import annotations

from shared.errors import DomainError


class UpgradeRequired(DomainError):
    """The request speaks a protocol or an event version this server does not know (HTTP 426).
    The phone keeps its outbox and waits for an app or server upgrade."""

    code = "upgrade_required"
