"""FastAPI dependencies as Annotated aliases. The session is opened here; routes commit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from server.services import auth
from server.services.access import Actor
from server.services.security import Clock, system_clock
from server.settings import Settings
from shared.errors import Unauthenticated

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session  # routes commit before returning; anything uncommitted is rolled back


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def get_clock() -> Clock:
    """The time source of the use cases; tests override this dependency with a fake clock."""
    return system_clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def get_actor(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    """Who is calling: an access token (password login) or a device token (`rdt_…`), which acts
    as its user with `device_id` set."""
    if not token:
        raise Unauthenticated("log in first: no bearer token was sent")
    resolved = auth.resolve_bearer(session, token, signing_key=settings.signing_key, now=clock())
    # The device's last_seen_at stamp (at most once a minute) is its own small unit of work,
    # committed before the route runs, so read-only routes that never commit keep it too. Commit
    # even when nothing was stamped: on SQLite every transaction begins IMMEDIATE, and a read left
    # open here would hold the write lock against a route's own session (the pull's snapshot
    # session waited for it until "database is locked").
    session.commit()
    return resolved.actor


ActorDep = Annotated[Actor, Depends(get_actor)]


def get_device_actor(actor: ActorDep) -> Actor:
    """Sync calls: only a device token will do (it names the device the events come from)."""
    if actor.device_id is None:
        raise Unauthenticated(
            "this call needs a device token: register the device first",
            code="device_token_required",
        )
    return actor


def get_user_actor(actor: ActorDep) -> Actor:
    """Calls that need a password login (registering a device): a device token will not do."""
    if actor.device_id is not None:
        raise Unauthenticated(
            "this call needs a user login, not a device token", code="user_token_required"
        )
    return actor


DeviceActorDep = Annotated[Actor, Depends(get_device_actor)]
UserActorDep = Annotated[Actor, Depends(get_user_actor)]
