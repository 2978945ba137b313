"""`POST /v1/imports/ledger`: an admin uploads a CSV or XLSX ledger file (multipart `file`).

The body is read here as a stream, not through FastAPI's `UploadFile` (which would store the whole
body before the route runs): bytes go to a spooled temporary file while they are counted and
hashed, and the request stops with 413 as soon as the file passes `settings.max_import_bytes`, so
a 200 MB upload costs the server the first 64 MB, not 200 MB of memory or disk.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from server.api.deps import ActorDep, SessionDep, SettingsDep
from server.services.access import require_role
from server.services.ledger_import.service import run_import
from server.services.ledger_import.summary import ImportSummary
from shared.errors import InvalidInput, TooLarge

router = APIRouter(prefix="/v1/imports", tags=["imports"])

_HEADER_SLACK = 64 * 1024  # multipart boundaries and part headers around the file itself
_UPLOAD_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/ledger",
    status_code=200,
    openapi_extra=_UPLOAD_SCHEMA,
    responses={
        403: {"description": "not an admin (`insufficient_role`)"},
        413: {"description": "the file is larger than the limit (`payload_too_large`)"},
        422: {
            "description": "unreadable file (`unsupported_file_type`, `missing_columns`, ...) or "
            "bad rows stopped the import (`import_rejected`, the summary in `details`)"
        },
    },
)
async def import_ledger(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    dry_run: Annotated[bool, Query(description="report without writing")] = False,
    skip_bad_rows: Annotated[bool, Query(description="import the good rows anyway")] = False,
) -> ImportSummary:
    """Import the receivables ledger (api.md, "Ledger import file"); answers the summary."""
    require_role(actor, "admin")
    with tempfile.TemporaryDirectory(prefix="recaudo-import-") as folder:
        upload = await _receive_file(request, Path(folder), settings.max_import_bytes)
        summary = await run_in_threadpool(
            run_import,
            session,
            upload.path,
            as_of=datetime.now(settings.tz).date(),
            filename=upload.filename,
            sha256=upload.sha256,
            user_id=actor.user_id,
            imported_by=actor.username,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
        )
    if summary.rejected and not dry_run:
        raise InvalidInput(
            f"{summary.error_count} filas con errores: no se importó nada "
            "(corríjalas o use skip_bad_rows)",
            code="import_rejected",
            details=summary.model_dump(mode="json"),
        )
    await run_in_threadpool(session.commit)
    return summary


class _Upload:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.filename = ""
        self.sha256 = ""


async def _receive_file(request: Request, folder: Path, limit: int) -> _Upload:
    """Stream the multipart body; keep the part named `file` on disk; 413 past `limit`."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + _HEADER_SLACK:
        raise _too_large(limit)
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInput(
            "send the file as multipart/form-data in a field named `file`", code="file_required"
        )
    upload = _Upload(folder / "upload")
    digest = hashlib.sha256()
    state: dict[str, Any] = {"field": b"", "headers": {}, "current": None, "size": 0, "found": 0}
    with upload.path.open("wb") as sink:

        def on_part_begin() -> None:
            state["headers"] = {}

        def on_header_field(data: bytes, start: int, end: int) -> None:
            state["field"] += data[start:end]

        def on_header_value(data: bytes, start: int, end: int) -> None:
            key = state["field"].lower()
            state["headers"][key] = state["headers"].get(key, b"") + data[start:end]

        def on_header_end() -> None:
            state["field"] = b""

        def on_headers_finished() -> None:
            _, disposition = parse_options_header(state["headers"].get(b"content-disposition"))
            is_file = disposition.get(b"name") == b"file"
            state["current"] = is_file
            if is_file:
                state["found"] += 1
                upload.filename = disposition.get(b"filename", b"").decode("utf-8", "replace")

        def on_part_data(data: bytes, start: int, end: int) -> None:
            if not state["current"] or state["found"] > 1:
                return
            state["size"] += end - start
            if state["size"] > limit:
                raise _too_large(limit)
            chunk = data[start:end]
            digest.update(chunk)
            sink.write(chunk)

        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": on_part_begin,
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_headers_finished": on_headers_finished,
                "on_part_data": on_part_data,
            },
        )
        received = 0
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit + _HEADER_SLACK:
                    raise _too_large(limit)
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError as exc:
            raise InvalidInput("the multipart body is malformed", code="invalid_multipart") from exc
    if state["found"] == 0:
        raise InvalidInput("no field named `file` in the upload", code="file_required")
    # Only the name is kept, as text: no folder (`../`, `/etc/`, a Windows path), no control
    # character (PostgreSQL cannot store NUL), at most the column's 300 characters. The file
    # itself is always stored as `upload` in a new temporary folder, whatever it was called.
    name = Path(upload.filename.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable())[:300]
    upload.filename = name if name.strip(".") else "upload"
    upload.sha256 = digest.hexdigest()
    return upload


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"the file is larger than {limit // (1024 * 1024)} MB",
        code="payload_too_large",
        details={"max_bytes": limit},
    )
