"""Sync endpoints (`/v1/sync`, device token). The push body is read by hand, not through a
FastAPI body model: its size is capped while it is read (gzip included, so a small bomb cannot
allocate more than the cap), and a malformed event must be kept and held, not refused with the
whole request."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Iterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.api.deps import ClockDep, DeviceActorDep, SessionDep, SettingsDep
from server.api.openapi import raw_json_body
from server.services import pulling, syncing
from shared.errors import InvalidInput, TooLarge
from sync.protocol import (
    MAX_PUSH_BYTES,
    InboundPush,
    PullResponse,
    PushRequest,
    PushResponse,
    read_push,
)

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


# At most this many pushes of one server process run their transaction at once; the others wait
# here, holding no database connection (the token check already committed). Python runs one
# thread at a time, so more concurrent pushes finish no sooner: they only hold the server_seq
# counter (locked from numbering to commit, sync-protocol.md) longer while they wait for the
# interpreter, queueing every other pusher behind it, and take the pool's connections from pulls
# (seen in `make soak`: pushes waiting on each other's counter lock, pool timeouts under the
# evening burst).
PUSH_SLOTS: Final = 2
_push_slots = threading.BoundedSemaphore(PUSH_SLOTS)


@router.post("/push", response_model_exclude_none=True, openapi_extra=raw_json_body(PushRequest))
def push(
    actor: DeviceActorDep,
    inbound: Annotated[InboundPush, Depends(parse_push)],
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> PushResponse:
    """Record and apply a chunk of field events in one transaction (sync-protocol.md)."""
    with _push_slots:
        return syncing.push_and_commit(session, actor, inbound, now=clock(), tz=settings.tz)


def get_snapshot_session(request: Request) -> Iterator[Session]:
    """A session whose transaction reads one snapshot: REPEATABLE READ on PostgreSQL (a pull page
    must not mix data committed at different moments), SQLite's own transaction otherwise. Opened
    here, before anything else runs in it, because the level is fixed at a transaction's start."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        bind = session.get_bind()
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session


SnapshotSessionDep = Annotated[Session, Depends(get_snapshot_session)]
_GZIP_FROM = 1024  # bytes: below this gzip saves nothing worth a header

_PULL_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "`not_authenticated`, `invalid_token`, `device_revoked`, "
        "`device_token_required`"
    },
    409: {
        "description": "`resync_required`: the cursor is malformed, of another server epoch, "
        "or older than the change log keeps; pull again from an empty cursor"
    },
    422: {"description": "`invalid_input`: limit outside 1..1000"},
}


@router.get("/pull", response_model=PullResponse, responses=_PULL_ERRORS)
def pull(
    request: Request,
    actor: DeviceActorDep,
    session: SnapshotSessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=pulling.MAX_LIMIT)] = pulling.DEFAULT_LIMIT,
) -> Response:
    """The collector's changes after `cursor` (empty: the whole scope), one page in one snapshot.
    Gzip when the client accepts it."""
    page = pulling.pull(
        session,
        actor,
        cursor,
        limit=limit,
        now=clock(),
        tz=settings.tz,
        edges=settings.aging_edges,
    )
    session.commit()  # only ever the server epoch of a brand-new database
    body = page.model_dump_json(exclude_none=True).encode()
    headers = {"Vary": "Accept-Encoding"}
    if len(body) >= _GZIP_FROM and "gzip" in request.headers.get("accept-encoding", "").lower():
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)
