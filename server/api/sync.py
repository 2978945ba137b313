"""Sync endpoints (`/v1/sync`, device token). The push body is read by hand, not through a
FastAPI body model: its size is capped while it is read (gzip included, so a small bomb cannot
allocate more than the cap), and a malformed event must be kept and held, not refused with the
whole request."""

from __future__ import annotations

import json
import zlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from server.api.deps import ClockDep, DeviceActorDep, SessionDep, SettingsDep
from server.services import syncing
from shared.errors import InvalidInput, TooLarge
from sync.protocol import MAX_PUSH_BYTES, InboundPush, PushResponse, read_push

router = APIRouter(prefix="/v1/sync", tags=["sync"])

# A gzip body a little larger than the plain one is possible for incompressible content.
_MAX_WIRE_BYTES = MAX_PUSH_BYTES + 4096


def _too_large() -> TooLarge:
    return TooLarge(
        f"at most {MAX_PUSH_BYTES} bytes of JSON uncompressed; send smaller chunks",
        code="payload_too_large",
        details={"max_bytes": MAX_PUSH_BYTES},
    )


async def read_body(request: Request) -> bytes:
    """The request body, gunzipped if it says so, refused as soon as it passes the cap."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _MAX_WIRE_BYTES:
        raise _too_large()
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise InvalidInput(
            f"unsupported Content-Encoding {encoding!r}", code="unsupported_encoding"
        )
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    out = bytearray()
    wire = 0
    async for chunk in request.stream():
        wire += len(chunk)
        if wire > _MAX_WIRE_BYTES:
            raise _too_large()
        out += _inflate(inflater, chunk, MAX_PUSH_BYTES + 1 - len(out)) if inflater else chunk
        if len(out) > MAX_PUSH_BYTES:
            raise _too_large()
    if inflater is not None and not inflater.eof:
        raise InvalidInput("the gzip body is truncated", code="invalid_json")
    return bytes(out)


def _inflate(inflater: zlib._Decompress, data: bytes, room: int) -> bytes:
    """Decompress at most `room` bytes of output (one past the cap is enough to refuse)."""
    try:
        return inflater.decompress(data, room)
    except zlib.error as exc:
        raise InvalidInput("the gzip body is corrupt", code="invalid_json") from exc


async def parse_push(body: Annotated[bytes, Depends(read_body)]) -> InboundPush:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("the body is not valid JSON", code="invalid_json") from exc
    return read_push(data)


@router.post("/push", response_model_exclude_none=True)
def push(
    actor: DeviceActorDep,
    inbound: Annotated[InboundPush, Depends(parse_push)],
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> PushResponse:
    """Record and apply a chunk of field events in one transaction (sync-protocol.md)."""
    response = syncing.push(session, actor, inbound, now=clock(), tz=settings.tz)
    session.commit()
    return response
