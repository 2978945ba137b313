"""Who this phone belongs to, beyond the username it was registered with: the collector's full
name (`GET /v1/me`), printed on every receipt. Asked at registration; when that answer was lost,
asked again after a sync until it is known; never needed online afterwards."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from mobile.net.client import Me
from mobile.net.outcomes import Failure, Outcome
from mobile.services.device import sync_state


class ProfileApi(Protocol):
    def me(self) -> Outcome[Me]: ...


def known_full_name(db: sessionmaker[Session]) -> str:
    with db() as session:
        return sync_state(session).full_name


def remember_full_name(db: sessionmaker[Session], api: ProfileApi) -> str:
    """The stored full name; asks the server only while none is stored. A failure leaves it
    empty (receipts show the username meanwhile) and is retried at the next sync."""
    name = known_full_name(db)
    if name:
        return name
    outcome = api.me()
    if isinstance(outcome, Failure):
        return ""
    name = outcome.value.user.full_name.strip()[:200]
    if name:
        with db.begin() as session:
            sync_state(session).full_name = name
    return name
