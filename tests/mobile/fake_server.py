"""An in-memory stand-in for the sync server's two endpoints, for the loop's unit tests: it
dedups pushes by event_id, serves scripted pull pages by cursor, and injects failures."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mobile.net.client import json_bytes
from mobile.net.outcomes import Failure, Ok, Outcome
from sync.protocol import PullResponse, PushResponse, PushResult
from tests.mobile.pages import page


@dataclass
class FakeServer:
    epoch: str = "epoch-1"
    seq: int = 0
    recorded: dict[str, int] = field(default_factory=dict)  # event_id -> server_seq
    pushes: list[list[int]] = field(default_factory=list)  # device_seqs of every push
    push_sizes: list[int] = field(default_factory=list)  # uncompressed JSON bytes
    pulls: list[str] = field(default_factory=list)  # cursors asked for
    push_faults: list[Failure] = field(default_factory=list)
    pull_faults: list[Failure] = field(default_factory=list)
    pages: dict[str, PullResponse] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    drop_results: int = 0  # answer for that many fewer events than were sent
    clock: datetime | None = None  # the server's time, sent as every answer's Date
    proxy_limit: int | None = None  # a proxy in front answers 413 to pushes of more events
    on_push: Callable[[], None] | None = None
    on_pull: Callable[[], None] | None = None

    def push(self, body: Mapping[str, Any]) -> Outcome[PushResponse]:
        events = body["events"]
        self.pushes.append([e["device_seq"] for e in events])
        self.push_sizes.append(len(json_bytes(body)))
        assert len(gzip.compress(json_bytes(body))) > 0  # what the real client would send
        if self.on_push is not None:
            self.on_push()
        if self.push_faults:
            return self.push_faults.pop(0)
        if self.proxy_limit is not None and len(events) > self.proxy_limit:
            return Failure("bad_request", "Request Entity Too Large", 413)
        results = []
        for event in events:
            eid = event["event_id"]
            if eid in self.recorded:
                reason = "client_closed" if eid in self.held else None  # as first recorded
                results.append(
                    PushResult(
                        event_id=eid,
                        status="duplicate",
                        server_seq=self.recorded[eid],
                        reason=reason,
                    )
                )
                continue
            if eid in self.held:
                results.append(PushResult(event_id=eid, status="held", reason="client_closed"))
                self.recorded[eid] = 0
                continue
            self.seq += 1
            self.recorded[eid] = self.seq
            results.append(PushResult(event_id=eid, status="applied", server_seq=self.seq))
        if self.drop_results:
            results = results[: -self.drop_results]
        return Ok(PushResponse(server_epoch=self.epoch, results=tuple(results)), self.clock)

    def pull(self, cursor: str, limit: int) -> Outcome[PullResponse]:
        self.pulls.append(cursor)
        if self.on_pull is not None:
            self.on_pull()
        if self.pull_faults:
            return self.pull_faults.pop(0)
        answer = self.pages.get(cursor) or page(cursor=cursor or "c0", epoch=self.epoch)
        return Ok(answer, self.clock)
