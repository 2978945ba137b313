"""Who is acting, and what they may see. Every service that reads or changes clients takes an
Actor and asks here, so the ownership rule lives in one place."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.errors import Forbidden, NotFound

OFFICE_ROLES = frozenset({"supervisor", "admin"})


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID
    username: str
    role: str
    device_id: uuid.UUID | None = None

    @property
    def is_office(self) -> bool:
        return self.role in OFFICE_ROLES


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden(
            f"this action needs the role {' or '.join(roles)}", code="insufficient_role"
        )


def require_office(actor: Actor) -> None:
    require_role(actor, *sorted(OFFICE_ROLES))


def check_client_visible(actor: Actor, collector_id: uuid.UUID | None) -> None:
    """A collector sees only the clients assigned to them. Answers 404, not 403, so a collector
    cannot probe which client ids exist."""
    if actor.is_office:
        return
    if actor.role == "collector" and collector_id == actor.user_id:
        return
    raise NotFound("no such client", code="client_not_found")
