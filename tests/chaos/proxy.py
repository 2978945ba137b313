"""A small asyncio TCP proxy on 127.0.0.1 that injects socket-level faults into HTTP/1.1 traffic.

It sits between the simulated phones and a uvicorn process and understands just enough HTTP
(request and response heads, Content-Length and chunked bodies) to act on whole requests, so a
fault can land exactly where the sync protocol says it must be survivable:

- `DROP`: close the client's connection before forwarding anything (the server never sees it);
- `CUT_RESPONSE`: forward the request, wait for the whole response (the server has committed),
  then close the client's connection without sending it (the "timeout after commit" case);
- `DELAY`: forward after `delay_s`;
- `HANG`: forward nothing and hold the connection until the client gives up (its deadline);
- `TRUNCATE`: forward the head and only part of the body, then close both sides;
- `DUPLICATE`: forward the request twice at once (the copy on a connection of its own) and
  answer the client with the first response.

Which fault applies to a request is asked of a `FaultPlan` (a callable), one request at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

_HEAD_END = b"\r\n\r\n"


class Fault(enum.Enum):
    PASS = "pass"
    DROP = "drop"
    CUT_RESPONSE = "cut_response"
    DELAY = "delay"
    HANG = "hang"
    TRUNCATE = "truncate"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Request:
    """One HTTP request as read from the client: the head (request line and headers) and body."""

    head: bytes
    body: bytes

    @property
    def target(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")

    @property
    def wire(self) -> bytes:
        return self.head + self.body


FaultPlan = Callable[[Request], Fault]


def always(fault: Fault) -> FaultPlan:
    return lambda _request: fault


class RandomFaults:
    """A seeded plan: each request draws a fault from `weights` (the rest of the mass is PASS)
    while `enabled`; `enabled = False` heals the network."""

    def __init__(self, weights: Mapping[Fault, float], seed: int = 0) -> None:
        if sum(weights.values()) > 1:
            raise ValueError("fault weights add up to more than 1")
        self.weights = dict(weights)
        self.enabled = True
        self._rng = random.Random(seed)

    def __call__(self, request: Request) -> Fault:
        if not self.enabled:
            return Fault.PASS
        draw = self._rng.random()
        for fault, weight in self.weights.items():
            if draw < weight:
                return fault
            draw -= weight
        return Fault.PASS


@dataclass
class ProxyStats:
    connections: int = 0
    requests: int = 0
    faults: Counter[Fault] = field(default_factory=Counter)
    upstream_failures: int = 0  # server down or died mid-request: the client sees a reset


class _Closed(Exception):
    """The peer closed the connection (or sent something this proxy does not speak)."""


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return None


def _is_chunked(head: bytes) -> bool:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            return True
    return False


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(_HEAD_END)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
        raise _Closed from exc


async def _read_exactly(reader: asyncio.StreamReader, n: int) -> bytes:
    try:
        return await reader.readexactly(n)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise _Closed from exc


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while True:
        try:
            size_line = await reader.readuntil(b"\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
            raise _Closed from exc
        out += size_line
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            break
        out += await _read_exactly(reader, size + 2)
    while True:  # trailers, up to the empty line
        try:
            line = await reader.readuntil(b"\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
            raise _Closed from exc
        out += line
        if line == b"\r\n":
            return bytes(out)


async def read_request(reader: asyncio.StreamReader) -> Request:
    head = await _read_head(reader)
    if _is_chunked(head):
        raise _Closed("chunked request bodies are not supported")
    length = _content_length(head) or 0
    return Request(head, await _read_exactly(reader, length))


async def read_response(reader: asyncio.StreamReader) -> bytes:
    head = await _read_head(reader)
    if _is_chunked(head):
        return head + await _read_chunked(reader)
    length = _content_length(head)
    if length is None:
        raise _Closed("a response without a length is not supported")
    return head + await _read_exactly(reader, length)


async def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is None:
        return
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()


class FaultProxy:
    """`async with FaultProxy(upstream_port, plan) as proxy:` listens on `proxy.port`."""

    def __init__(
        self,
        upstream_port: int,
        plan: FaultPlan | None = None,
        *,
        delay_s: float = 0.2,
        upstream_host: str = "127.0.0.1",
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.plan = plan or always(Fault.PASS)
        self.delay_s = delay_s
        self.stats = ProxyStats()
        self.port = 0
        self.in_flight = 0  # requests forwarded whose response has not come back yet
        self._forwarded = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_forwarded(self) -> None:
        """Wait until the next request has been written to the server."""
        self._forwarded.clear()
        await self._forwarded.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.stats.connections += 1
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                request = await read_request(reader)
                self.stats.requests += 1
                fault = self.plan(request)
                self.stats.faults[fault] += 1
                if fault is Fault.DROP:
                    return
                if fault is Fault.HANG:
                    await reader.read()  # until the client closes (its deadline passed)
                    return
                if fault is Fault.DELAY:
                    await asyncio.sleep(self.delay_s)
                if upstream is None:
                    upstream = await self._connect()
                if fault is Fault.TRUNCATE:
                    upstream[1].write(request.head + request.body[: len(request.body) // 2])
                    await upstream[1].drain()
                    return
                copy = self._spawn(self._copy(request)) if fault is Fault.DUPLICATE else None
                response = await self._forward(upstream, request)
                if copy is not None:
                    await copy
                if fault is Fault.CUT_RESPONSE:
                    return
                writer.write(response)
                await writer.drain()
        except (_Closed, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            pass  # the proxy is closing; end quietly (asyncio logs a cancelled handler)
        finally:
            if upstream is not None:
                await _close(upstream[1])
            await _close(writer)
            self._tasks.discard(task)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.open_connection(*self.upstream)
        except OSError:
            self.stats.upstream_failures += 1
            raise

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _copy(self, request: Request) -> None:
        """The duplicate's copy, on a connection of its own; its response is thrown away."""
        try:
            upstream = await self._connect()
        except OSError:
            return
        try:
            await self._exchange(upstream, request)
        except (_Closed, OSError):
            pass
        finally:
            await _close(upstream[1])

    async def _forward(
        self, upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: Request
    ) -> bytes:
        try:
            return await self._exchange(upstream, request)
        except (_Closed, OSError):
            self.stats.upstream_failures += 1
            raise

    async def _exchange(
        self, upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: Request
    ) -> bytes:
        reader, writer = upstream
        writer.write(request.wire)
        await writer.drain()
        self.in_flight += 1
        self._forwarded.set()
        try:
            return await read_response(reader)
        finally:
            self.in_flight -= 1
