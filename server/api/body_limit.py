"""A size cap on every request body, enforced while the body is read.

Neither uvicorn nor Starlette caps a body: a route with a JSON or form body buffers all of it
before validating (a 300 MB `POST /v1/devices` grew the server by 300 MB). This middleware answers
413 `payload_too_large` when `Content-Length` declares more than the route's cap, before reading
anything, and otherwise counts the bytes as the app receives them and stops at the cap, so a
chunked body without a length costs at most the cap. The routes that take files or pushes have
larger caps of their own and check them exactly themselves; the cap here is their backstop.

Only the sync push accepts `Content-Encoding: gzip` (it inflates with a cap of its own); any
other encoding anywhere is 415 `unsupported_encoding`, so no route parses compressed bytes it
would never inflate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Final

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.protocol import MAX_PUSH_BYTES

MAX_BODY_BYTES: Final = 1 << 20  # every JSON or form body of the API and the pages is far smaller
_SLACK: Final = 64 * 1024  # multipart boundaries and part headers, gzip's overhead
_PUSH: Final = re.compile(r"/v1/sync/push")
_FILES: Final = re.compile(r"/v1/imports/ledger|/v1/devices/[^/]+/events")


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware; `file_limit` gives the cap of the file uploads (the settings' import
    cap, read per request so a test may change it)."""

    def __init__(self, app: ASGIApp, file_limit: Callable[[], int]) -> None:
        self.app = app
        self.file_limit = file_limit

    def limit_for(self, path: str) -> int:
        # Above the routes' own caps, so their exact answers (with details) come first.
        if _PUSH.fullmatch(path):
            return MAX_PUSH_BYTES + 2 * _SLACK
        if _FILES.fullmatch(path):
            return self.file_limit() + 2 * _SLACK
        return MAX_BODY_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.limit_for(path)
        headers = dict(scope["headers"])
        encoding = headers.get(b"content-encoding", b"identity").strip().lower()
        if encoding != b"identity" and not _PUSH.fullmatch(path):
            message = f"Content-Encoding {encoding.decode('latin-1')!r} is not accepted here"
            await _refuse(send, 415, "unsupported_encoding", message)
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, "payload_too_large", str(too_large(limit).detail), limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException: FastAPI turns any other error while reading a body
                    # into 400; this one reaches the handler that writes the error envelope.
                    raise too_large(limit)
            return message

        await self.app(scope, counted, send)


async def _refuse(
    send: Send, status: int, code: str, message: str, limit: int | None = None
) -> None:
    details = None if limit is None else {"max_bytes": limit}
    body = json.dumps({"error": {"code": code, "message": message, "details": details}}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), (b"connection", b"close")],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
