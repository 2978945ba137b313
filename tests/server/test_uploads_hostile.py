"""Hostile uploads and paths against a real uvicorn process over raw sockets (issue 8).

TestClient normalises URLs (`../` never leaves httpx) and hands the app whole bodies, so what
matters here goes over a socket to `uvicorn server.main:create_app` in a subprocess, on SQLite and
PostgreSQL: path traversal in the static mounts (the pages' CSS, Leaflet, Swagger UI), file names
of uploads, download names made of data, bodies past the cap (refused while they stream, before
the server holds them) and gzip where it is not accepted or is a bomb.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import socket
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.db import migrate
from server.db.engine import make_engine
from server.db.models import Client, User
from server.services.security import issue_access_token
from server.web.cookies import SESSION_COOKIE
from tests.pg import fresh_database, require_postgres, worker_database_name
from tests.server.conftest import Login
from tests.server.sync_helpers import payment, push, register_phone, statuses, visit
from tests.server.test_event_files import exported

SIGNING_KEY = "uploads-signing-key-0123456789-0123456789-abcdef"
CAP = 2_000_000  # RECAUDO_MAX_IMPORT_BYTES of the server under test
ROOT = Path(__file__).resolve().parents[2]
CSV = (
    b"codigo_cliente;nombre_cliente;factura;fecha_vencimiento;valor;saldo\r\n"
    b"C-UP-1;Ana;FE-UP-1;15/03/2025;1.000;400\r\n"
)
INJECTED_CODE = 'C-"x\r\nSet-Cookie: a=b'


@dataclass
class Live:
    port: int
    admin: str  # bearer token
    collector: str
    injected_client: str


@contextlib.contextmanager
def _database(engine_name: str, folder: Path) -> Iterator[str]:
    if engine_name == "sqlite":
        yield f"sqlite:///{folder / 'recaudo.db'}"
        return
    base = require_postgres()
    with fresh_database(base, worker_database_name(base, "uploads")) as url:
        yield url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("uploads")
    with _database(request.param, folder) as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            admin = User(username="admin-up", role="admin", password_hash="x")
            collector = User(username="gestor-up", role="collector", password_hash="x")
            injected = Client(code=INJECTED_CODE, name="Inyección")
            session.add_all([admin, collector, injected])
            session.commit()
            tokens = [
                issue_access_token(u.id, u.role, SIGNING_KEY, timedelta(hours=1))
                for u in (admin, collector)
            ]
            injected_id = str(injected.id)
        engine.dispose()
        port = _free_port()
        env = {**os.environ, "RECAUDO_ENVIRONMENT": "test", "RECAUDO_DATABASE_URL": url,
               "RECAUDO_DATA_DIR": str(folder), "RECAUDO_SIGNING_KEY": SIGNING_KEY,
               "RECAUDO_MAX_IMPORT_BYTES": str(CAP)}  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "server.main:create_app",
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=env, stderr=(folder / "server.log").open("wb"),
        )  # fmt: skip
        try:
            _wait_for(port, server)
            yield Live(port, tokens[0], tokens[1], injected_id)
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError("the server exited; see server.log")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise TimeoutError("the server did not open its port")


# --- raw HTTP --------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def code(self) -> str:
        return str(json.loads(self.body)["error"]["code"])


def _read_answer(sock: socket.socket) -> Answer:
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), f"no HTTP answer: {data[:200]!r}"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(lines[0].split()[1]), headers, body)


def request(live: Live, head: str, body: bytes = b"") -> Answer:
    """One request as written (no URL normalisation), `Connection: close`."""
    with socket.create_connection(("127.0.0.1", live.port), timeout=60) as sock:
        sock.sendall(head.encode("latin-1") + b"Connection: close\r\n\r\n" + body)
        return _read_answer(sock)


def stream(live: Live, head: str, chunks: Iterator[bytes]) -> tuple[Answer, int]:
    """A chunked body sent until the server answers or closes: (its answer, bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", live.port), timeout=60) as sock:
        sock.sendall(f"{head}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode())
        try:
            for chunk in chunks:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its answer is waiting
        return _read_answer(sock), sent


def bearer(token: str) -> str:
    return f"Authorization: Bearer {token}\r\nHost: test\r\n"


def multipart(filename: bytes, content: bytes) -> tuple[str, bytes]:
    body = (
        b'--bnd\r\nContent-Disposition: form-data; name="file"; filename="' + filename
        + b'"\r\nContent-Type: text/csv\r\n\r\n' + content + b"\r\n--bnd--\r\n"
    )  # fmt: skip
    return "Content-Type: multipart/form-data; boundary=bnd\r\n", body


# --- path traversal --------------------------------------------------------------------------

STATIC_PREFIXES = ["/supervisor/static/", "/supervisor/static/leaflet/", "/static/swagger-ui/"]
TRAVERSALS = [
    "../../settings.py", "../../../server/settings.py", "%2e%2e/%2e%2e/settings.py",
    "%2e%2e%2f%2e%2e%2fsettings.py", "..%2f..%2fsettings.py", "%252e%252e%252fsettings.py",
    "..\\..\\settings.py", "/etc/passwd", "%2fetc%2fpasswd", "//etc/passwd",
    "....//....//etc/passwd", "app.css%00.txt", "%00", "..%00/settings.py",
    "%c0%ae%c0%ae/%c0%ae%c0%ae/settings.py",
]  # fmt: skip


@pytest.mark.parametrize("prefix", STATIC_PREFIXES)
def test_static_files_never_leave_their_folder(live: Live, prefix: str) -> None:
    for attempt in TRAVERSALS:
        answer = request(live, f"GET {prefix}{attempt} HTTP/1.1\r\nHost: test\r\n")
        assert answer.status in (400, 404), f"{prefix}{attempt}: {answer.status}"
        assert b"BaseSettings" not in answer.body and b"root:" not in answer.body
    assert request(live, "GET /supervisor/static/app.css HTTP/1.1\r\nHost: test\r\n").status == 200


@pytest.mark.parametrize(
    "name",
    [b"../../etc/passwd", b"/etc/passwd", b"%2e%2e%2fetc%2fpasswd", b"C:\\x\\..\\y.csv",
     b"a\x00b.csv", b"..", b"a\x1b[31mb.csv"],
    ids=["dotdot", "absolute", "encoded", "windows", "nul", "only-dots", "escape"],
)  # fmt: skip
def test_an_uploads_file_name_is_only_a_label(live: Live, name: bytes) -> None:
    """Before: a NUL in the name reached `import_batch.filename` (a 500 on PostgreSQL)."""
    content_type, body = multipart(name, CSV)
    answer = request(
        live,
        f"POST /v1/imports/ledger HTTP/1.1\r\n{bearer(live.admin)}{content_type}"
        f"Content-Length: {len(body)}\r\n",
        body,
    )
    assert answer.status == 200, answer.body
    stored = json.loads(answer.body)["filename"]
    assert "/" not in stored and "\\" not in stored and stored.isprintable()
    assert stored.strip(".") and ".." not in stored.split("/")


def test_a_download_name_made_of_data_cannot_inject_headers(live: Live) -> None:
    """A client code from an imported file with a quote and CR/LF: the statement PDF used to
    make uvicorn drop the connection (\"Invalid HTTP header value\"), with no answer at all."""
    answer = request(
        live,
        f"GET /supervisor/clients/{live.injected_client}/statement.pdf HTTP/1.1\r\nHost: test\r\n"
        f"Cookie: {SESSION_COOKIE}={live.admin}\r\n",
    )
    assert answer.status == 200 and answer.body.startswith(b"%PDF")
    disposition = answer.headers["content-disposition"]
    assert "set-cookie" not in answer.headers and "\r" not in disposition
    assert disposition.startswith('attachment; filename="estado-de-cuenta-C-_xSet-Cookie_a_b-')


# --- oversize bodies -------------------------------------------------------------------------

BIG = 64  # MiB offered by each streamed body; the caps are 1 MiB (JSON) and 2 MB (files)


def megabytes(multipart: bool = False) -> Iterator[bytes]:
    if multipart:
        yield b'--bnd\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
    chunk = b"a" * (1 << 20)
    for _ in range(BIG):
        yield chunk


def test_a_declared_oversize_upload_is_refused_before_its_body(live: Live) -> None:
    for path in ("/v1/imports/ledger", f"/v1/devices/{uuid.uuid4()}/events", "/v1/devices"):
        answer = request(
            live,
            f"POST {path} HTTP/1.1\r\n{bearer(live.admin)}Content-Type: application/json\r\n"
            f"Content-Length: {50 * CAP}\r\n",
        )  # the body is never sent: the answer comes from the headers alone
        assert (answer.status, answer.code()) == (413, "payload_too_large"), path


@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [
        ("/v1/imports/ledger", "multipart/form-data; boundary=bnd", CAP),
        ("/v1/devices/{device}/events", "application/json", CAP),
        ("/v1/devices", "application/json", 1 << 20),
        ("/v1/auth/token", "application/x-www-form-urlencoded", 1 << 20),
        ("/supervisor/login", "application/x-www-form-urlencoded", 1 << 20),
    ],
)
def test_a_streamed_oversize_body_is_cut_at_the_cap(
    live: Live, path: str, content_type: str, limit: int
) -> None:
    """No Content-Length: the server counts while it reads and answers 413 long before the
    64 MiB are sent (the socket buffers hold a few MiB more than the server read)."""
    head = (
        f"POST {path.format(device=uuid.uuid4())} HTTP/1.1\r\n{bearer(live.admin)}"
        f"Content-Type: {content_type}\r\n"
    )
    answer, sent = stream(live, head, megabytes(multipart="multipart" in content_type))
    assert answer.status == 413, answer.body
    assert answer.code() == "payload_too_large"
    assert limit < sent + (1 << 20) and sent < 32 * (1 << 20), f"sent {sent} bytes"


# --- gzip --------------------------------------------------------------------------------------


def _gzip_bomb() -> bytes:
    """1 GiB of zeros in about 1 MB of gzip."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 24)
    return b"".join(packer.compress(zeros) for _ in range(64)) + packer.flush()


def test_a_gzip_bomb_at_the_push_is_refused_at_the_cap(live: Live) -> None:
    register = json.dumps({"name": "bomba", "install_nonce": "bomb-0001"}).encode()
    answer = request(
        live,
        f"POST /v1/devices HTTP/1.1\r\n{bearer(live.collector)}Content-Type: application/json\r\n"
        f"Content-Length: {len(register)}\r\n",
        register,
    )
    assert answer.status == 201, answer.body
    device = json.loads(answer.body)["device_token"]
    bomb = _gzip_bomb()
    answer = request(
        live,
        f"POST /v1/sync/push HTTP/1.1\r\n{bearer(device)}Content-Type: application/json\r\n"
        f"Content-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n",
        bomb,
    )
    assert (answer.status, answer.code()) == (413, "payload_too_large")


@pytest.mark.parametrize(
    "path", ["/v1/imports/ledger", "/v1/devices/{device}/events", "/v1/devices"]
)
def test_gzip_is_refused_where_it_is_not_accepted(live: Live, path: str) -> None:
    """Only the push inflates; elsewhere compressed bytes would be parsed as they are."""
    body = gzip.compress(b'{"name": "x", "install_nonce": "gzip-0001"}')
    answer = request(
        live,
        f"POST {path.format(device=uuid.uuid4())} HTTP/1.1\r\n{bearer(live.admin)}"
        f"Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
        f"Content-Length: {len(body)}\r\n",
        body,
    )
    assert (answer.status, answer.code()) == (415, "unsupported_encoding")


# --- NUL in pushed events (in process) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "where", "reason"),
    [
        ("visit", "notes", "invalid_payload"),
        ("payment", "receipt_no", "invalid_payload"),
        ("payment", "method", "invalid_payload"),
        ("payment", "type", "unknown_type"),
    ],
)
def test_a_nul_in_a_pushed_event_is_held_not_a_500(
    client: TestClient,
    session: Session,
    make_user: Callable[..., Login],
    make_client: Callable[..., Client],
    kind: str,
    where: str,
    reason: str,
) -> None:
    """PostgreSQL cannot store NUL in text: a visit's notes or a payment's receipt number with
    one (or an envelope `type` with one) answered 500 for the whole chunk, every time it was sent
    (the phone's money stuck behind it). Such an event is now kept and held like any malformed
    one, its neighbours applied; the office's import of an exported outbox takes the same path."""
    login = make_user("collector")
    phone = register_phone(client, login)
    owner = make_client(collector=login.user)
    bad = (
        visit(phone, owner.id, "promise") if kind == "visit" else payment(phone, owner.id, "10.00")
    )
    if where == "type":  # the envelope's own type (stored as a column of the held event)
        bad["type"] += "\u0000"
    else:
        bad["payload"][where] = "a\u0000b"
    good = payment(phone, owner.id, "1000.00")
    response = push(client, phone, [bad, good])
    assert response.status_code == 200, response.text
    assert statuses(response) == [("held", reason), ("applied", None)]
    office = make_user("supervisor")
    again = visit(phone, owner.id, "promise")
    again["payload"]["notes"] = "\u0000"
    posted = client.post(
        f"/v1/devices/{phone.device_id}/events",
        json=exported(phone, [again]),
        headers=office.headers,
    )
    assert posted.status_code == 200, posted.text


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/v1/devices", {"json": {"name": "a\u0000b", "install_nonce": "nul-000001"}}),
        ("POST", "/v1/auth/token", {"data": {"username": "a\u0000b", "password": "x"}}),
        ("GET", "/v1/clients?collector=a%00b", {}),
    ],
    ids=["device name", "login name", "query filter"],
)
def test_a_nul_in_any_text_is_a_422(
    client: TestClient, make_user: Callable[..., Login], method: str, url: str, body: dict[str, Any]
) -> None:
    """Before, each of these was a 500 on PostgreSQL (NUL cannot be stored in text, nor bound
    in a comparison); the engine now refuses such a value for every statement, on both engines."""
    role = "collector" if url == "/v1/devices" else "supervisor"
    response = client.request(method, url, headers=make_user(role).headers, **body)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_character")
