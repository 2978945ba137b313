"""Simulated phones running the real phone code: field actions through
`mobile.services.recording` (event + outbox row in one local transaction) and sync cycles through
`mobile.services.syncing.sync_once` over `mobile.net.SyncClient` (push in chunks, apply answers,
pull the mirror), pointed at the fault proxy. The only addition is `CountingApi`, a pass-through
around the client that counts what each request came to. A failed cycle is retried after a short
backoff, as the phone's background loop does."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from mobile.net.client import SyncClient, Timeouts
from mobile.net.outcomes import Failure, Outcome
from mobile.services.recording import record_payment, record_promise, record_visit, void_payment
from mobile.services.syncing import SyncOptions, SyncReport, sync_once
from shared.errors import DomainError
from sync.protocol import PullResponse, PushResponse
from tests.chaos.scenario import Registered

BOGOTA = timezone(timedelta(hours=-5))
APP_VERSION = "1.0.0-chaos"


@dataclass
class PushStats:
    """What the phones saw on the wire, summed over all of them."""

    requests: int = 0
    ok: int = 0
    failed: int = 0  # each is followed by a retry of the same rows
    errors: Counter[str] = field(default_factory=Counter)
    pulls: int = 0
    pulls_failed: int = 0
    lost_but_committed: int = 0  # a retry answered `duplicate` for rows sent with no answer
    latencies: list[float] = field(default_factory=list)  # seconds, successful pushes
    unexpected: list[str] = field(default_factory=list)  # failures no fault should cause

    def median_latency(self, default: float) -> float:
        recent = sorted(self.latencies[-200:])
        return recent[len(recent) // 2] if recent else default

    @property
    def server_errors(self) -> int:
        """Answers with a 5xx status: retried and harmless to the data, but a server bug."""
        return sum(n for k, n in self.errors.items() if k.split()[-1].startswith("5"))

    def failure(self, outcome: Failure) -> None:
        self.errors[f"{outcome.kind} {outcome.status or 'network'}"] += 1
        if outcome.kind != "retryable":
            self.unexpected.append(outcome.describe())


class CountingApi:
    """The phone's SyncClient, counting outcomes (and answers to rows whose push was lost)."""

    def __init__(self, client: SyncClient, stats: PushStats, unanswered: set[str]) -> None:
        self.client = client
        self.stats = stats
        self.unanswered = unanswered

    def push(self, body: Mapping[str, Any]) -> Outcome[PushResponse]:
        ids = {e["event_id"] for e in body["events"]}
        self.stats.requests += 1
        began = time.perf_counter()
        outcome = self.client.push(body)
        if isinstance(outcome, Failure):
            self.stats.failed += 1
            self.stats.failure(outcome)
            self.unanswered |= ids
            return outcome
        self.stats.ok += 1
        self.stats.latencies.append(time.perf_counter() - began)
        results = outcome.value.results
        if any(r.status == "duplicate" and str(r.event_id) in self.unanswered for r in results):
            self.stats.lost_but_committed += 1
        self.unanswered -= ids
        return outcome

    def pull(self, cursor: str, limit: int) -> Outcome[PullResponse]:
        self.stats.pulls += 1
        outcome = self.client.pull(cursor, limit)
        if isinstance(outcome, Failure):
            self.stats.pulls_failed += 1
            self.stats.failure(outcome)
        return outcome


class SimPhone:
    def __init__(
        self,
        name: str,
        phone: Registered,
        collector_id: str,
        clients: list[str],
        rng: random.Random,
        *,
        chunk: int = 50,
    ) -> None:
        self.name = name
        self.phone = phone
        self.collector_id = collector_id
        self.clients = clients
        self.rng = rng
        self.chunk = chunk
        self.recorded: dict[str, str] = {}  # event_id -> type: every action the phone reported
        self.payments_today: list[str] = []
        self.voided: set[str] = set()
        self._unanswered: set[str] = set()  # sent in a request that got no answer
        self._clients: dict[tuple[str, float], CountingApi] = {}

    # -- field work ------------------------------------------------------------------------------

    def record_some(self, n: int) -> None:
        for _ in range(n):
            self._record_one()

    def _record_one(self) -> None:
        db, rng, now = self.phone.db, self.rng, datetime.now(BOGOTA)
        client = rng.choice(self.clients)
        draw = rng.random()
        if draw < 0.45:
            amount = Decimal(rng.randrange(1_000, 600_000, 100))
            receipt = record_payment(db, client_id=client, amount=amount, method="cash", now=now)
            self.recorded[receipt.event_id] = "payment.collected"
            self.payments_today.append(receipt.event_id)
        elif draw < 0.75:
            visit = record_visit(db, client_id=client, outcome="contacted", now=now, notes="ok")
            self.recorded[visit.event_id] = "visit.recorded"
        elif draw < 0.92:
            due = now.date() + timedelta(days=rng.randint(1, 20))
            promise = record_promise(
                db, client_id=client, amount=Decimal(rng.randrange(10_000, 300_000, 1_000)),
                due_date=due, now=now,
            )  # fmt: skip
            self.recorded[promise.event_id] = "promise.made"
        else:
            candidates = [p for p in self.payments_today if p not in self.voided]
            if not candidates:
                return
            target = rng.choice(candidates)
            try:
                void = void_payment(db, payment_event_id=target, reason="recibo errado", now=now)
            except DomainError:
                return  # the business day changed under the run: a void is no longer allowed
            self.voided.add(target)
            self.recorded[void.event_id] = "payment.voided"

    # -- sync ------------------------------------------------------------------------------------

    def sync(self, base_url: str, stats: PushStats, deadline_s: float) -> SyncReport:
        """One cycle of the phone's own sync loop against `base_url` (blocking: run it in a
        thread)."""
        key = (base_url, deadline_s)
        if key not in self._clients:
            timeouts = Timeouts(deadline=deadline_s, connect=deadline_s, read=deadline_s)
            client = SyncClient(
                base_url, self.phone.token, app_version=APP_VERSION, timeouts=timeouts
            )
            self._clients[key] = CountingApi(client, stats, self._unanswered)
        options = SyncOptions(app_version=APP_VERSION, chunk_events=self.chunk)
        report = sync_once(self.phone.db, self._clients[key], options=options)
        if report.conflicts:
            stats.unexpected.append(f"{self.name}: {report.conflicts} conflicts")
        return report

    def close(self) -> None:
        for api in self._clients.values():
            api.client.close()
        self.phone.db.kw["bind"].dispose()
