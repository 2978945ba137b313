"""Device registration, listing and revocation (`/v1/devices`)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, Field, RootModel, StringConstraints

from server.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep, UserActorDep
from server.api.openapi import raw_json_body
from server.db.models import Device
from server.repositories import users as users_repo
from server.services import devices, event_files
from server.services.event_files import EventFileResult
from shared.errors import InvalidInput, TooLarge
from sync.protocol import PushRequest

router = APIRouter(prefix="/v1/devices", tags=["devices"])


class RegisterIn(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    # Generated once per installation (a UUID is ideal) and kept by the app: a retry with the
    # same nonce is answered with the same device.
    install_nonce: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")


class RegisterOut(BaseModel):
    device_id: uuid.UUID
    device_code: str
    device_token: str
    server_epoch: str


class DeviceOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    user_id: uuid.UUID
    username: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, device: Device, username: str) -> DeviceOut:
        return cls(
            id=device.id,
            code=device.code,
            name=device.name,
            user_id=device.user_id,
            username=username,
            created_at=device.created_at,
            last_seen_at=device.last_seen_at,
            revoked_at=device.revoked_at,
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": RegisterOut, "description": "the same installation, a new token"}},
)
def register(
    body: RegisterIn, actor: UserActorDep, session: SessionDep, clock: ClockDep, response: Response
) -> RegisterOut:
    """Register this installation (collectors, with a password login). The device token is shown
    only in this answer. Repeating the call with the same install_nonce returns the same device
    (200) with a new token; the previous token stops working."""
    reg = devices.register_device(
        session, actor, name=body.name, install_nonce=body.install_nonce, now=clock()
    )
    session.commit()
    if not reg.created:
        response.status_code = status.HTTP_200_OK
    return RegisterOut(
        device_id=reg.device.id,
        device_code=reg.device.code,
        device_token=reg.token,
        server_epoch=reg.server_epoch,
    )


@router.get("")
def list_devices(actor: ActorDep, session: SessionDep) -> list[DeviceOut]:
    """Every device for supervisors and admins; a collector sees their own."""
    return [DeviceOut.of(d, username) for d, username in devices.list_devices(session, actor)]


@router.post("/{device_id}/revoke")
def revoke(
    device_id: uuid.UUID, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> DeviceOut:
    """Revoke a device (admin): its token is refused from the next request on."""
    device = devices.revoke_device(session, actor, device_id, now=clock())
    session.commit()
    owner = users_repo.get_user(session, device.user_id)
    return DeviceOut.of(device, owner.username if owner else "")


async def read_event_file(request: Request, settings: SettingsDep) -> object:
    """The posted file as JSON, read with a cap (the ledger import's) before it is parsed."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > settings.max_import_bytes:
            raise TooLarge(
                f"the file is larger than {settings.max_import_bytes} bytes",
                code="payload_too_large",
            )
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("the file is not valid JSON", code="invalid_json") from exc


class ExportedEvents(RootModel[list[PushRequest]]):
    """The file the app's "Exportar pendientes" writes: push requests, in order."""


@router.post(
    "/{device_id}/events",
    openapi_extra=raw_json_body(ExportedEvents),
    responses={
        413: {"description": "`payload_too_large`: over the import size limit"},
        422: {"description": "`invalid_json`, `invalid_event_file`, `device_mismatch`"},
    },
)
def import_events(
    device_id: uuid.UUID,
    data: Annotated[object, Depends(read_event_file)],
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> EventFileResult:
    """A phone's exported pending events (the app's "Exportar pendientes" file), posted by a
    supervisor or admin when the phone cannot push them itself, even after it was revoked. Each
    event is recorded once, by the same rule as a push; posting the file again changes nothing."""
    return event_files.import_event_file(
        session, actor, device_id, data, now=clock(), tz=settings.tz
    )
