"""A fault-injecting httpx transport: the network between a phone and the real app, in-process.

Every request takes the next fault of the schedule (none once it is empty, or after `heal`):

- `drop`: never reaches the server (connection refused before the request left);
- `lose_response`: the server handles it (and commits), the answer is lost on the way back;
- `duplicate`: a middlebox delivers it twice; the client gets the second answer;
- `hang`: the request is stuck in the network: the client times out, the server gets it later
  (on `release_held`), possibly after newer requests: a reordered, stale request;
- `stale_copy`: delivered normally, and a copy is kept to be replayed later (`release_held`);
- `truncate_request`: the server gets only the first half of the body;
- `truncate_response`: the server handles it; the client gets half of the answer's body;
- `inject`: other events are slipped into the push body at the wire (`wire_events`, e.g.
  malformed ones, or same event_id with other content) and their results taken out of the
  answer, so the client sees exactly the results of what it sent.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal, get_args

import httpx

Fault = Literal[
    "drop",
    "lose_response",
    "duplicate",
    "hang",
    "stale_copy",
    "truncate_request",
    "truncate_response",
    "inject",
]
FAULTS: tuple[Fault, ...] = get_args(Fault)

# Given one push body (decoded JSON), the events to slip in after the client's own.
WireEvents = Callable[[dict[str, Any]], list[dict[str, Any]]]


@dataclass
class Delivery:
    """One request as the server saw it (for assertions and debugging)."""

    fault: Fault | None
    path: str
    status: int | None  # None: never delivered (dropped, or still held)


@dataclass
class Network:
    """What all the phones' transports share: the server, and requests held for later."""

    server: httpx.Client  # reaches the app with no faults (a TestClient)
    held: list[httpx.Request] = field(default_factory=list)
    log: list[Delivery] = field(default_factory=list)
    # event_ids slipped in at the wire, and the results the server gave for them.
    injected: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def deliver(self, request: httpx.Request, fault: Fault | None) -> httpx.Response:
        response = self.server.send(request)
        response.read()
        self.log.append(Delivery(fault, request.url.path, response.status_code))
        return response

    def release_held(self, rng: random.Random) -> list[int]:
        """Deliver every held request now, in a random order; answers go nowhere."""
        held, self.held = self.held, []
        rng.shuffle(held)
        return [self.deliver(request, "hang").status_code for request in held]


class FaultTransport(httpx.BaseTransport):
    """One phone's network link. `schedule` faults apply to its next requests, in order."""

    def __init__(self, network: Network, wire_events: WireEvents | None = None) -> None:
        self.network = network
        self.schedule: list[Fault] = []
        self.wire_events = wire_events

    def plan(self, faults: Iterable[Fault]) -> None:
        self.schedule = list(faults)

    def heal(self) -> None:
        self.schedule = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        fault = self.schedule.pop(0) if self.schedule else None
        net = self.network
        if fault == "drop":
            net.log.append(Delivery(fault, request.url.path, None))
            raise httpx.ConnectError("injected: connection refused", request=request)
        if fault == "hang":
            net.held.append(_copy(request))
            raise httpx.ReadTimeout("injected: no answer before the deadline", request=request)
        if fault == "truncate_request":
            content = request.content
            return _detach(net.deliver(_copy(request, content[: len(content) // 2]), fault))
        if fault == "inject":
            return self._inject(request)
        response = net.deliver(request, fault)
        if fault == "lose_response":
            raise httpx.ReadError("injected: connection reset after the request", request=request)
        if fault == "duplicate":
            response = net.deliver(_copy(request), fault)
        elif fault == "stale_copy":
            net.held.append(_copy(request))
        elif fault == "truncate_response":
            content = response.content
            return httpx.Response(
                response.status_code,
                headers=_plain(response.headers),
                content=content[: len(content) // 2],
                request=request,
            )
        return _detach(response)

    def _inject(self, request: httpx.Request) -> httpx.Response:
        net = self.network
        gzipped = request.headers.get("content-encoding", "").lower() == "gzip"
        try:
            body = json.loads(gzip.decompress(request.content) if gzipped else request.content)
        except (ValueError, OSError):
            return _detach(net.deliver(request, "inject"))
        extra = self.wire_events(body) if self.wire_events and isinstance(body, dict) else []
        if not extra or not isinstance(body.get("events"), list):
            return _detach(net.deliver(request, "inject"))
        own = {str(e.get("event_id")) for e in body["events"] if isinstance(e, dict)}
        body["events"] = [*body["events"], *extra]
        raw = json.dumps(body).encode()
        response = net.deliver(_copy(request, gzip.compress(raw) if gzipped else raw), "inject")
        for e in extra:
            net.injected.setdefault(str(e.get("event_id")), None)
        if response.status_code != 200:
            return _detach(response)
        answer = response.json()
        mine, seen = [], set()
        for result in answer.get("results", []):
            eid = result["event_id"]
            # The client's own copy of an id comes first in the body, so its result is first.
            if eid in own and eid not in seen:
                seen.add(eid)
                mine.append(result)
            else:
                net.injected[eid] = result
        answer["results"] = mine
        return httpx.Response(200, json=answer)


def _copy(request: httpx.Request, content: bytes | None = None) -> httpx.Request:
    body = request.content if content is None else content
    headers = _without_length(request.headers)
    return httpx.Request(request.method, request.url, headers=headers, content=body)


def _without_length(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != "content-length"}


def _plain(headers: httpx.Headers) -> dict[str, str]:
    """Headers of a body handed on already decoded (httpx un-gzipped it)."""
    drop = ("content-length", "content-encoding")
    return {k: v for k, v in headers.items() if k.lower() not in drop}


def _detach(response: httpx.Response) -> httpx.Response:
    """A fresh response for the phone's client (the server's belongs to the TestClient), with
    the Date header uvicorn would add (the phone keeps its acked rows by the server's clock)."""
    headers = _plain(response.headers)
    if not any(k.lower() == "date" for k in headers):
        headers["date"] = format_datetime(datetime.now(UTC), usegmt=True)
    return httpx.Response(response.status_code, headers=headers, content=response.content)
