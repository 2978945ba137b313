"""The fault proxy against a tiny upstream HTTP server that records what reached it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from tests.chaos.proxy import Fault, FaultProxy, RandomFaults, Request, always

pytestmark = pytest.mark.anyio


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return int(value)
    return 0


@dataclass
class Upstream:
    """Answers every complete request with its body echoed; records complete and cut bodies."""

    port: int = 0
    bodies: list[bytes] = field(default_factory=list)
    incomplete: int = 0
    chunked: bool = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return  # the client closed between requests
                try:
                    request = Request(head, await reader.readexactly(content_length(head)))
                except asyncio.IncompleteReadError:
                    self.incomplete += 1
                    return
                self.bodies.append(request.body)
                body = b"echo:" + request.body
                if self.chunked:
                    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    writer.write(head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
                else:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
                await writer.drain()
        finally:
            writer.close()


@asynccontextmanager
async def proxied(
    fault: Fault, *, chunked: bool = False
) -> AsyncIterator[tuple[Upstream, FaultProxy]]:
    upstream = Upstream(chunked=chunked)
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0)
    upstream.port = server.sockets[0].getsockname()[1]
    try:
        async with FaultProxy(upstream.port, always(fault), delay_s=0.05) as proxy:
            yield upstream, proxy
    finally:
        server.close()


async def _post(proxy: FaultProxy, body: bytes, timeout: float = 5) -> httpx.Response:
    async with httpx.AsyncClient(timeout=timeout) as http:
        return await http.post(f"{proxy.url}/v1/sync/push", content=body)


async def _settle() -> None:
    for _ in range(20):  # let the upstream's handler see the end of a cut connection
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("fault", [Fault.PASS, Fault.DELAY])
async def test_pass_and_delay_forward_once_and_answer(fault: Fault) -> None:
    async with proxied(fault) as (upstream, proxy):
        response = await _post(proxy, b"payload")
    assert response.content == b"echo:payload"
    assert upstream.bodies == [b"payload"]
    assert proxy.stats.faults == {fault: 1}


async def test_keep_alive_connection_carries_several_requests() -> None:
    async with proxied(Fault.PASS) as (_upstream, proxy), httpx.AsyncClient() as http:
        answers = [(await http.post(proxy.url, content=b"%d" % n)).content for n in range(3)]
    assert answers == [b"echo:0", b"echo:1", b"echo:2"]
    assert proxy.stats.connections == 1


async def test_chunked_responses_pass_through() -> None:
    async with proxied(Fault.PASS, chunked=True) as (_upstream, proxy):
        response = await _post(proxy, b"abc")
    assert response.content == b"echo:abc"


async def test_drop_never_reaches_the_server() -> None:
    async with proxied(Fault.DROP) as (upstream, proxy):
        with pytest.raises(httpx.RemoteProtocolError):
            await _post(proxy, b"payload")
    assert upstream.bodies == []


async def test_cut_response_reaches_the_server_but_not_the_client() -> None:
    async with proxied(Fault.CUT_RESPONSE) as (upstream, proxy):
        with pytest.raises(httpx.RemoteProtocolError):
            await _post(proxy, b"payload")
    assert upstream.bodies == [b"payload"]


async def test_hang_holds_until_the_client_gives_up() -> None:
    async with proxied(Fault.HANG) as (upstream, proxy):
        with pytest.raises(httpx.ReadTimeout):
            await _post(proxy, b"payload", timeout=0.2)
    assert upstream.bodies == []


async def test_truncate_sends_half_a_body_then_closes() -> None:
    async with proxied(Fault.TRUNCATE) as (upstream, proxy):
        with pytest.raises(httpx.RemoteProtocolError):
            await _post(proxy, b"0123456789")
        await _settle()
    assert upstream.bodies == []
    assert upstream.incomplete == 1


async def test_duplicate_delivers_twice_and_answers_once() -> None:
    async with proxied(Fault.DUPLICATE) as (upstream, proxy):
        response = await _post(proxy, b"payload")
        await _settle()
    assert response.content == b"echo:payload"
    assert upstream.bodies == [b"payload", b"payload"]


async def test_server_down_resets_the_client() -> None:
    async with proxied(Fault.PASS) as (_upstream, proxy):
        proxy.upstream = ("127.0.0.1", 1)  # nothing listens there
        with pytest.raises(httpx.RemoteProtocolError):
            await _post(proxy, b"payload")
    assert proxy.stats.upstream_failures == 1


def test_random_plan_draws_by_weight_and_heals() -> None:
    plan = RandomFaults({Fault.DROP: 0.5, Fault.HANG: 0.5}, seed=3)
    request = Request(b"POST / HTTP/1.1\r\n\r\n", b"")
    drawn = {plan(request) for _ in range(200)}
    assert drawn == {Fault.DROP, Fault.HANG}
    plan.enabled = False
    assert {plan(request) for _ in range(50)} == {Fault.PASS}
    with pytest.raises(ValueError):
        RandomFaults({Fault.DROP: 0.7, Fault.HANG: 0.5})
