"""FastAPI dependencies as Annotated aliases. The session is opened here; routes commit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from server.db.models import User
from server.services.access import Actor
from server.services.security import read_access_token
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


def get_actor(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    if not token:
        raise Unauthenticated("log in first: no bearer token was sent")
    claims = read_access_token(token, settings.signing_key)
    user = session.get(User, claims.user_id)
    if user is None or not user.active:
        raise Unauthenticated("the user no longer exists or is disabled", code="invalid_token")
    return Actor(user_id=user.id, username=user.username, role=user.role)


ActorDep = Annotated[Actor, Depends(get_actor)]
