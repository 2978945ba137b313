"""The phone's transport: what goes on the wire, and every HTTP outcome mapped to a decision."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

import httpx
import pytest

from mobile.net.client import SyncClient, Timeouts, retry_after
from mobile.net.outcomes import Failure, Ok

EVENT_ID = str(uuid.uuid4())
PUSHED = {"server_epoch": "e1", "results": [{"event_id": EVENT_ID, "status": "applied"}]}
PAGE = {"server_epoch": "e1", "changes": [], "next_cursor": "c2", "has_more": False}
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
BODY = {"protocol": 1, "device_id": str(uuid.uuid4()), "app_version": "1.0.0", "events": []}

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, **kw: object) -> SyncClient:
    return SyncClient(
        "http://server.test",
        "tok-123",
        app_version="1.2.3",
        transport=httpx.MockTransport(handler),
        wall_clock=lambda: NOW,
        **kw,  # type: ignore[arg-type]
    )


def error(status: int, code: str, **headers: str) -> Handler:
    body = {"error": {"code": code, "message": f"msg {code}", "details": None}}
    return lambda _: httpx.Response(status, json=body, headers=headers)


def test_push_sends_gzip_json_with_the_device_token_and_reads_the_answer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=PUSHED)

    outcome = client(handler).push(BODY)
    assert isinstance(outcome, Ok)
    assert [str(r.event_id) for r in outcome.value.results] == [EVENT_ID]
    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/v1/sync/push")
    assert request.headers["authorization"] == "Bearer tok-123"
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["user-agent"] == "recaudo-phone/1.2.3"
    assert "gzip" in request.headers["accept-encoding"]
    assert json.loads(gzip.decompress(request.content)) == BODY


def test_an_answers_date_header_is_the_servers_clock() -> None:
    dated = {"Date": "Mon, 23 Nov 2026 15:04:05 GMT"}
    outcome = client(lambda _: httpx.Response(200, json=PUSHED, headers=dated)).push(BODY)
    assert isinstance(outcome, Ok)
    assert outcome.server_time == datetime(2026, 11, 23, 15, 4, 5, tzinfo=UTC)
    for headers in ({}, {"Date": "yesterday"}):
        outcome = client(lambda _, h=headers: httpx.Response(200, json=PUSHED, headers=h)).push(
            BODY
        )
        assert isinstance(outcome, Ok) and outcome.server_time is None


def test_pull_passes_cursor_and_limit_and_accepts_a_gzip_answer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raw = gzip.compress(json.dumps(PAGE).encode())
        return httpx.Response(200, content=raw, headers={"Content-Encoding": "gzip"})

    outcome = client(handler).pull("abc", 50)
    assert isinstance(outcome, Ok)
    assert outcome.value.next_cursor == "c2"
    assert dict(seen[0].url.params) == {"cursor": "abc", "limit": "50"}


@pytest.mark.parametrize(
    ("handler", "kind", "status", "code", "pause"),
    [
        (error(401, "device_revoked"), "revoked", 401, "device_revoked", None),
        (error(401, "invalid_token"), "reauth", 401, "invalid_token", None),
        (error(403, "device_mismatch"), "reauth", 403, "device_mismatch", None),
        (error(426, "protocol_unsupported"), "upgrade", 426, "protocol_unsupported", None),
        (error(409, "resync_required"), "resync", 409, "resync_required", None),
        (error(409, "conflict"), "bad_request", 409, "conflict", None),
        (error(413, "too_many_events"), "bad_request", 413, "too_many_events", None),
        (error(422, "invalid_push"), "bad_request", 422, "invalid_push", None),
        (error(429, "too_many_requests", **{"Retry-After": "7"}), "retryable", 429, None, 7.0),
        (error(503, "unavailable", **{"Retry-After": "120"}), "retryable", 503, None, 120.0),
        (lambda _: httpx.Response(500, text="<html>boom</html>"), "retryable", 500, None, None),
        (lambda _: httpx.Response(502, text="bad gateway"), "retryable", 502, None, None),
    ],
)
def test_each_status_maps_to_what_the_loop_should_do(
    handler: Handler, kind: str, status: int, code: str | None, pause: float | None
) -> None:
    outcome = client(handler).push(BODY)
    assert isinstance(outcome, Failure)
    assert (outcome.kind, outcome.status, outcome.retry_after_s) == (kind, status, pause)
    if code is not None and kind != "retryable":
        assert outcome.code == code


def _raises(exc: Exception) -> Handler:
    def handler(_: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message"),
    ],
)
def test_network_errors_and_timeouts_are_retryable(exc: Exception) -> None:
    outcome = client(_raises(exc)).pull("", 10)
    assert isinstance(outcome, Failure)
    assert (outcome.kind, outcome.status) == ("retryable", None)


def test_a_truncated_answer_is_retryable() -> None:
    cut = json.dumps(PUSHED).encode()[:-9]
    outcome = client(lambda _: httpx.Response(200, content=cut)).push(BODY)
    assert isinstance(outcome, Failure)
    assert (outcome.kind, outcome.status) == ("retryable", 200)


def test_every_phase_timeout_is_capped_by_the_deadline() -> None:
    seen: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json=PAGE)

    timeouts = Timeouts(deadline=3.0, connect=5.0, read=2.0, write=10.0, pool=1.0)
    assert isinstance(client(handler, timeouts=timeouts).pull("", 1), Ok)
    assert seen == [{"connect": 3.0, "read": 2.0, "write": 3.0, "pool": 1.0}]


def test_a_server_dripping_bytes_is_cut_at_the_deadline() -> None:
    ticks = iter(range(100))  # the fake monotonic clock moves one second per reading

    def drip() -> Iterator[bytes]:
        for byte in json.dumps(PAGE).encode():
            yield bytes([byte])

    handler: Handler = lambda _: httpx.Response(200, content=drip())  # noqa: E731
    outcome = client(handler, timeouts=Timeouts(deadline=10), monotonic=lambda: next(ticks)).pull(
        "", 1
    )
    assert isinstance(outcome, Failure)
    assert outcome.kind == "retryable"
    assert "10 s" in outcome.message


def test_retry_after_as_seconds_or_http_date() -> None:
    assert retry_after("30", NOW) == 30.0
    assert retry_after("Mon, 23 Nov 2026 15:01:30 GMT", NOW) == 90.0
    assert retry_after("Mon, 23 Nov 2026 14:00:00 GMT", NOW) == 0.0  # already past
    assert retry_after("soon", NOW) is None
    assert retry_after(None, NOW) is None


@contextmanager
def tcp_server(handle: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A loopback server that hands each connection to `handle` (a misbehaving peer)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                handle(conn, stop)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(10)
        listener.close()


def test_a_silent_server_times_out_on_a_real_socket() -> None:
    def silent(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        stop.wait(10)  # never answers

    with tcp_server(silent) as url:
        api = SyncClient(url, "tok", timeouts=Timeouts(deadline=0.3))
        outcome = api.pull("", 1)
    assert isinstance(outcome, Failure)
    assert (outcome.kind, outcome.message) == ("retryable", "timeout (ReadTimeout)")


def test_a_dripping_server_is_cut_by_the_overall_deadline_on_a_real_socket() -> None:
    """Each byte arrives well within the read timeout; only the overall deadline stops it."""

    def drip(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        conn.sendall(b"Content-Length: 100000\r\n\r\n")
        with suppress(OSError):
            while not stop.wait(0.02):
                conn.sendall(b" ")

    with tcp_server(drip) as url:
        api = SyncClient(url, "tok", timeouts=Timeouts(deadline=1.0, read=1.0))
        outcome = api.pull("", 1)
    assert isinstance(outcome, Failure)
    assert outcome.kind == "retryable"
    assert outcome.message == "no complete answer within 1 s"
