"""Logging in (`POST /v1/auth/token`) and who am I (`GET /v1/me`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from server.repositories import devices as devices_repo
from server.repositories import users as users_repo
from server.services import auth
from shared.errors import Unauthenticated

router = APIRouter(prefix="/v1", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    role: str


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    full_name: str
    role: str


class DeviceBrief(BaseModel):
    id: uuid.UUID
    code: str
    name: str


class MeOut(BaseModel):
    user: UserOut
    device: DeviceBrief | None


@router.post(
    "/auth/token",
    responses={401: {"description": "invalid_credentials"}, 429: {"description": "throttled"}},
)
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> TokenOut:
    """OAuth2 password login. Too many failures for a username or from one address answer 429
    `too_many_login_attempts` with Retry-After until the window passes."""
    try:
        issued = auth.login(
            session,
            username=form.username,
            password=form.password,
            remote_addr=request.client.host if request.client else "",
            settings=settings,
            now=clock(),
        )
    except Unauthenticated:
        session.commit()  # the failure row must outlive this answer, or throttling never trips
        raise
    session.commit()
    return TokenOut(
        access_token=issued.access_token, expires_in=issued.expires_in, role=issued.user.role
    )


@router.get("/me")
def me(actor: ActorDep, session: SessionDep) -> MeOut:
    """The caller's user and, when calling with a device token, the device."""
    user = users_repo.get_user(session, actor.user_id)
    assert user is not None  # the actor was resolved from this row in this request
    device = devices_repo.get_device(session, actor.device_id) if actor.device_id else None
    return MeOut(
        user=UserOut(id=user.id, username=user.username, full_name=user.full_name, role=user.role),
        device=DeviceBrief(id=device.id, code=device.code, name=device.name) if device else None,
    )
