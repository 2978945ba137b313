"""The push invariants under random traffic: chunks with retries, reorders, in-chunk duplicates,
conflicting rewrites and voids, to every kind of client. After every push: exactly once,
conservation (payments = ledger payments + suspense), projections = sums of entries, and every
event the server acknowledged keeps its server_seq forever."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.orm import Session

from tests.server.sync_helpers import (
    MakeUser,
    check_invariants,
    payment,
    push,
    register_phone,
    visit,
    void,
)

amounts = st.integers(min_value=1, max_value=10**8).map(lambda c: f"{c // 100}.{c % 100:02d}")


def test_push_state_machine(
    client: TestClient, session: Session, make_user: MakeUser, make_client: Any
) -> None:
    login = make_user("collector")
    phone = register_phone(client, login)
    others_phone = register_phone(client, make_user("collector"))
    targets = [
        make_client(collector=login.user).id,
        make_client(collector=login.user, status="closed").id,
        make_client(collector=others_phone.user).id,
        uuid.uuid4(),  # unknown to the server
    ]

    class PushMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.outbox: list[dict[str, Any]] = []
            self.payments: list[str] = []
            # event_id -> (device_seq of the content recorded, server_seq answered)
            self.recorded: dict[str, tuple[int, int]] = {}
            self.conflicts = 0

        @rule(who=st.sampled_from(targets), amount=amounts)
        def collect(self, who: uuid.UUID, amount: str) -> None:
            e = payment(phone, who, amount)
            self.outbox.append(e)
            self.payments.append(e["event_id"])

        @rule(who=st.sampled_from(targets))
        def record_visit(self, who: uuid.UUID) -> None:
            self.outbox.append(visit(phone, who))

        @precondition(lambda self: bool(self.payments))
        @rule(data=st.data())
        def void_one(self, data: st.DataObject) -> None:
            target = data.draw(st.sampled_from(self.payments))
            self.outbox.append(void(phone, targets[0], target))

        @precondition(lambda self: bool(self.outbox))
        @rule(data=st.data())
        def push_chunk(self, data: st.DataObject) -> None:
            picks = data.draw(st.lists(st.sampled_from(self.outbox), min_size=1, max_size=12))
            rewrite = data.draw(st.booleans())
            chunk = list(picks)
            if rewrite:  # a buggy client re-sends a known id with other content
                changed = {**picks[0], "device_seq": picks[0]["device_seq"] + 10**9}
                chunk.insert(data.draw(st.integers(0, len(chunk))), changed)
            response = push(client, phone, chunk)
            assert response.status_code == 200, response.text
            results = response.json()["results"]
            assert [r["event_id"] for r in results] == [e["event_id"] for e in chunk]
            for sent, result in zip(chunk, results, strict=True):
                self._check(sent, result)

        def _check(self, sent: dict[str, Any], result: dict[str, Any]) -> None:
            """The exact model: the first content the server saw for an id is the recorded one;
            the same content again is a duplicate with the same seq, other content a conflict."""
            eid, recorded = result["event_id"], self.recorded.get(result["event_id"])
            if recorded is None:
                assert result["status"] in ("applied", "held")
                self.recorded[eid] = (sent["device_seq"], result["server_seq"])
            elif recorded[0] == sent["device_seq"]:
                assert (result["status"], result["server_seq"]) == ("duplicate", recorded[1])
            else:
                assert result["status"] == "conflict"
                self.conflicts += 1

        @invariant()
        def ledger_invariants(self) -> None:
            check_invariants(session)

    run_state_machine_as_test(
        PushMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
