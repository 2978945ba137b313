"""`POST /v1/imports/ledger`: admin only, the summary as the answer, 413 before a huge body is
read, 422 with stable codes for files that cannot be imported."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import ImportBatch, Invoice

URL = "/v1/imports/ledger"
CSV = (
    b"codigo_cliente;nombre_cliente;factura;fecha_vencimiento;valor;saldo\r\n"
    b"C-1;Ana;FE-1;15/03/2025;1.000;400\r\n"
)


def upload(content: bytes, name: str = "cartera.csv") -> dict[str, Any]:
    return {"file": (name, content, "text/csv")}


def batches(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ImportBatch)) or 0


def test_admin_imports_and_gets_the_summary(
    client: TestClient, session: Session, make_user: Callable[..., Any]
) -> None:
    admin = make_user("admin")
    response = client.post(URL, files=upload(CSV), headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["filename"] == "cartera.csv" and body["imported_by"] == admin.user.username
    assert (body["invoices_created"], body["adjustments_posted"]) == (1, 1)
    assert body["adjustments_net"] == "-600.00" and body["written"] is True
    assert len(body["sha256"]) == 64 and body["batch_id"]
    number = session.scalar(select(Invoice.number).where(Invoice.number == "FE-1"))
    assert number == "FE-1"
    again = client.post(URL, files=upload(CSV), headers=admin.headers).json()
    assert again["adjustments_posted"] == 0 and again["same_file_as_batch"] == body["batch_id"]


def test_dry_run_answers_the_plan_and_writes_nothing(
    client: TestClient, session: Session, make_user: Callable[..., Any]
) -> None:
    admin = make_user("admin")
    response = client.post(URL, params={"dry_run": True}, files=upload(CSV), headers=admin.headers)
    assert response.status_code == 200
    assert response.json()["invoices_created"] == 1 and response.json()["written"] is False
    assert batches(session) == 0


def test_only_an_admin_may_import(client: TestClient, make_user: Callable[..., Any]) -> None:
    for role in ("supervisor", "collector"):
        response = client.post(URL, files=upload(CSV), headers=make_user(role).headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "insufficient_role"
    assert client.post(URL, files=upload(CSV)).status_code == 401


def test_bad_rows_answer_422_with_the_summary(
    client: TestClient, session: Session, make_user: Callable[..., Any]
) -> None:
    content = CSV + b"C-2;Bo;FE-2;31/02/2025;1.000;\r\n"
    response = client.post(URL, files=upload(content), headers=make_user("admin").headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "import_rejected"
    assert [(e["row"], e["column"], e["code"]) for e in error["details"]["errors"]] == [
        (3, "fecha_vencimiento", "invalid_date")
    ]
    assert batches(session) == 0
    skipped = client.post(
        URL, params={"skip_bad_rows": True}, files=upload(content),
        headers=make_user("admin").headers,
    )  # fmt: skip
    assert skipped.status_code == 200 and skipped.json()["rows_skipped"] == 1


def test_files_that_cannot_be_imported(client: TestClient, make_user: Callable[..., Any]) -> None:
    headers = make_user("admin").headers
    cases = [
        (upload(b"%PDF-1.7 ...", "cartera.pdf"), "unsupported_file_type"),
        (upload(b"codigo_cliente,valor\nC-1,100\n"), "missing_columns"),
        ({"other": ("x.csv", CSV, "text/csv")}, "file_required"),
    ]
    for files, code in cases:
        response = client.post(URL, files=files, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == code
    plain = client.post(URL, content=CSV, headers={**headers, "Content-Type": "text/csv"})
    assert plain.status_code == 422 and plain.json()["error"]["code"] == "file_required"


def test_declared_oversize_is_refused_before_reading(
    app: FastAPI, client: TestClient, make_user: Callable[..., Any]
) -> None:
    limit = app.state.settings.max_import_bytes
    body = b"--b\r\n"  # the declared length is what is checked: the body is never read
    headers = {
        **make_user("admin").headers,
        "Content-Type": "multipart/form-data; boundary=b",
        "Content-Length": str(limit + 10**6),
    }
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_200_mb_streamed_upload_is_cut_at_the_limit(
    app: FastAPI, session: Session, make_user: Callable[..., Any]
) -> None:
    """A chunked body with no Content-Length, fed lazily to the ASGI app: the answer is 413
    after about `max_import_bytes`, not after 200 MB, and nothing is written."""
    admin = make_user("admin")
    limit = app.state.settings.max_import_bytes
    chunk = b"x" * (1 << 20)
    total_chunks = 200
    opening = (
        b'--bnd\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
    )
    pulled = {"bytes": 0, "chunks": 0}

    def body() -> Any:
        yield opening
        for _ in range(total_chunks):
            yield chunk
        yield b"\r\n--bnd--\r\n"

    stream = body()
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        piece = next(stream, None)
        if piece is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled["bytes"] += len(piece)
        pulled["chunks"] += 1
        return {"type": "http.request", "body": piece, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": URL, "raw_path": URL.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1234), "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", admin.headers["Authorization"].encode()),
            (b"content-type", b"multipart/form-data; boundary=bnd"),
            (b"transfer-encoding", b"chunked"),
        ],
    }  # fmt: skip
    started = time.perf_counter()
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    assert status == 413
    assert pulled["bytes"] <= limit + len(opening) + len(chunk)  # stopped at the limit ...
    assert pulled["chunks"] < total_chunks  # ... long before the 200 MB were sent
    assert batches(session) == 0
    assert elapsed < 60  # generous for a loaded CI machine; measured about 2 s here
