"""Convergence (sync-protocol.md invariant 5) as a property, on both engines: whatever mix of
client changes, reassignments between two collectors and nobody, new event statuses and pulls of
random page sizes happens, a phone that applies every page ends with exactly the server's view of
its scope (ids and versions), the checksum of the last page agrees with its mirror, and no
client's change_seq ever goes down."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Client, User
from server.services import changes, pulling
from server.services.access import Actor
from shared.aging import DEFAULT_EDGES
from shared.calendar import business_tz
from sync.checksum import scope_checksum
from sync.protocol import PullResponse

NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)
CLIENTS = 6

_op = st.one_of(
    st.tuples(st.just("change"), st.sets(st.integers(0, CLIENTS - 1), min_size=1)),
    st.tuples(st.just("assign"), st.integers(0, CLIENTS - 1), st.sampled_from(["a", "b", None])),
    st.tuples(st.just("status"), st.just(0)),
    st.tuples(st.just("pull"), st.integers(1, 4)),
)


class Phone:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.cursor: str | None = None
        self.clients: dict[str, tuple[int, int, Decimal]] = {}  # id -> version, seq, balance
        self.statuses: set[str] = set()

    def pull(self, session: Session, limit: int) -> PullResponse:
        page = pulling.pull(
            session, self.actor, self.cursor, limit=limit, now=NOW, tz=business_tz(),
            edges=DEFAULT_EDGES,
        )  # fmt: skip
        for ch in page.changes:
            if ch.entity == "event_status":
                self.statuses.add(ch.id)
            elif ch.op == "remove":
                self.clients.pop(ch.id, None)
            else:
                assert ch.version is not None and ch.data is not None
                known = self.clients.get(ch.id)
                if known is None or ch.version > known[0]:
                    assert known is None or ch.seq >= known[1]  # change_seq never goes down
                    self.clients[ch.id] = (ch.version, ch.seq, Decimal(ch.data["balance"]))
        self.cursor = page.next_cursor
        return page


# A third of the profile's examples: each one is a whole scenario on a real database.
@settings(
    max_examples=max(20, (settings.default.max_examples or 60) // 3),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(_op, max_size=25))
def test_a_phone_converges_to_its_scope(session: Session, ops: list[tuple]) -> None:  # type: ignore[type-arg]
    users = {
        key: User(username=f"{key}-{uuid.uuid4().hex[:8]}", role="collector", password_hash="x")
        for key in ("a", "b")
    }
    session.add_all(users.values())
    session.flush()
    clients = [
        Client(code=f"P-{uuid.uuid4().hex[:8]}", name="x", collector_id=users["a"].id)
        for _ in range(CLIENTS)
    ]
    session.add_all(clients)
    session.flush()
    a = users["a"]
    phone = Phone(Actor(a.id, a.username, "collector", device_id=uuid.uuid4()))
    written: set[str] = set()
    for op in ops:
        if op[0] == "change":
            changes.clients_changed(session, [clients[i].id for i in op[1]])
        elif op[0] == "assign":
            c = clients[op[1]]
            old = c.collector_id
            c.collector_id = users[op[2]].id if op[2] else None
            session.flush()
            changes.client_reassigned(session, c.id, old, c.collector_id)
        elif op[0] == "status":
            event_id = uuid.uuid4()
            changes.event_statuses(session, a.id, [(event_id, "held", "")])
            written.add(str(event_id))
        else:
            phone.pull(session, op[1])
    last = phone.pull(session, 3)
    while last.has_more:
        last = phone.pull(session, 3)
    session.expire_all()
    scope = session.execute(
        select(Client.id, Client.version).where(Client.collector_id == a.id)
    ).all()
    assert {cid: v for cid, (v, _, _) in phone.clients.items()} == {str(cid): v for cid, v in scope}
    assert phone.statuses == written
    assert last.scope_checksum == scope_checksum(
        (uuid.UUID(cid), v, balance) for cid, (v, _, balance) in phone.clients.items()
    )
