"""The sync fault suite, in-process: a Hypothesis state machine over the real app (SQLite and
PostgreSQL) and three phones (two for one collector) driven through the phone's real services,
each behind a link that drops, loses, duplicates, holds and replays, truncates and tampers with
requests. The phones also propose agreements, open glosas and hand over cash, and the office
accepts glosas (credit notes) and confirms or rejects handovers (issue 7). The invariants of
sync-protocol.md, and those of the new events (every one lands exactly once; credit notes are
separate adjustments; cash in hand is the same on the phones and the server), are checked after
every step and at quiescence (network healed, every phone synced twice, the office's decisions
pulled)."""

from __future__ import annotations

import os
import random
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, select

from mobile.data.models import ClientMirror, OutboxRow
from mobile.services import field_collections, recording
from mobile.services.cash import cash_in_hand, handed_over_ids, record_handover
from server.db.models import CashHandover, Client, Dispute, InboundEvent
from shared.calendar import business_date
from shared.errors import Conflict
from tests.sync.faults import FAULTS, Fault
from tests.sync.invariants import (
    Row,
    check_always,
    check_cash_in_hand,
    check_collections_work,
    check_converged,
    check_quiescent,
    outbox_snapshot,
    recorded_row,
)
from tests.sync.rig import Phone, World, open_world, sync
from tests.sync.strategies import (
    dispute_kinds,
    dispute_reasons,
    handover_methods,
    installment_plans,
)
from tests.sync.wire import wire_events

# Small chunks so a backlog takes several requests and a fault can split it.
CHUNK = 3
LAYOUT = {"ana": 2, "beto": 1, "caro": 0}  # caro has no phone: she only receives clients
TZ = "America/Bogota"

cents = st.one_of(
    st.integers(min_value=1, max_value=10**8),  # up to a million pesos
    st.integers(min_value=10**8, max_value=10**13),
    st.just(10**13),  # MAX_FIELD_PAYMENT: the largest amount applied to a client
    # Above it, up to MAX_AMOUNT: held in suspense as amount_implausible.
    st.integers(min_value=10**13 + 1, max_value=10**17),
)
amounts = cents.map(lambda c: Decimal(c) / 100)
skews = st.sampled_from([timedelta(0), timedelta(days=365), timedelta(days=-365)])
fault_plans = st.lists(st.sampled_from(FAULTS), max_size=4)


class SyncMachine(RuleBasedStateMachine):
    # Set by the test before the run: the app, its engine and where phone files go.
    engine: ClassVar[Engine]
    app: ClassVar[FastAPI]
    server: ClassVar[TestClient]
    template: ClassVar[Path]
    workdir: ClassVar[Path]

    def __init__(self) -> None:
        super().__init__()
        self.world: World = open_world(
            self.engine, self.app, self.server, self.template, self.workdir, LAYOUT
        )
        self.rng = random.Random(0)
        self.closed: set[uuid.UUID] = set()
        # Every event the phones' field actions wrote, as first written.
        self.recorded: dict[str, Row] = {}
        self.since_heal = 0

    def _remember(self, phone: Phone, event_id: str) -> None:
        self.recorded[event_id] = recorded_row(phone, event_id)

    @initialize(seed=st.integers(0, 2**32))
    def seed(self, seed: int) -> None:
        self.rng.seed(seed)

    # --- field work on the phones ---------------------------------------------------------

    def _targets(self) -> list[uuid.UUID]:
        return [*self.world.office.clients, self.world.office.unknown_client]

    @rule(data=st.data(), amount=amounts)
    def collect(self, data: st.DataObject, amount: Decimal) -> None:
        phone = data.draw(st.sampled_from(self.world.phones))
        client = data.draw(st.sampled_from(self._targets()))
        receipt = recording.record_payment(
            phone.db, client_id=client, amount=amount, method="cash", now=phone.now()
        )
        assert receipt.receipt_no == f"{phone.device_code}-{receipt.device_seq:06d}"
        self._remember(phone, receipt.event_id)

    @rule(data=st.data())
    def visit(self, data: st.DataObject) -> None:
        phone = data.draw(st.sampled_from(self.world.phones))
        client = data.draw(st.sampled_from(self._targets()))
        done = recording.record_visit(
            phone.db, client_id=client, outcome="contacted", now=phone.now()
        )
        self._remember(phone, done.event_id)

    @rule(data=st.data(), amount=amounts)
    def promise(self, data: st.DataObject, amount: Decimal) -> None:
        phone = data.draw(st.sampled_from(self.world.phones))
        client = data.draw(st.sampled_from(self._targets()))
        now = phone.now()
        done = recording.record_promise(
            phone.db, client_id=client, amount=amount, due_date=now.date(), now=now
        )
        self._remember(phone, done.event_id)

    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        phone = data.draw(st.sampled_from(self.world.phones))
        with phone.db() as session:
            paid = session.scalars(
                select(OutboxRow).where(OutboxRow.type == "payment.collected")
            ).all()
            voided = set(
                session.scalars(
                    select(OutboxRow.ref_event_id).where(OutboxRow.type == "payment.voided")
                )
            )
            handed = handed_over_ids(session)
        if not paid:
            return
        target = data.draw(st.sampled_from(paid))
        now = phone.now()
        same_day = business_date(datetime.fromisoformat(target.device_time), TZ) == business_date(
            now, TZ
        )
        try:
            done = recording.void_payment(
                phone.db, payment_event_id=target.event_id, reason="recibo errado", now=now, tz=TZ
            )
        except Conflict as exc:
            if not same_day:
                expected = "void_window_closed"
            elif target.event_id in voided:
                expected = "payment_already_voided"
            else:
                # In a handover the office has not rejected: a correction for the office.
                assert target.event_id in handed
                expected = "payment_handed_over"
            assert exc.code == expected
        else:
            assert same_day and target.event_id not in voided | handed
            self._remember(phone, done.event_id)

    # --- collections work from the field (issue 7) --------------------------------------------

    @rule(data=st.data(), plan=installment_plans)
    def propose_agreement(self, data: st.DataObject, plan: tuple[int, list[Any]]) -> None:
        phone = data.draw(st.sampled_from(self.world.phones))
        client = data.draw(st.sampled_from(self._targets()))
        now = phone.now()
        first, steps = plan
        due = now.date() + timedelta(days=first)
        schedule = []
        for gap, amount in steps:
            schedule.append((due, amount))
            due += timedelta(days=gap)
        done = field_collections.record_agreement(
            phone.db, client_id=client, installments=schedule, now=now, notes="acuerdo"
        )
        self._remember(phone, done.event_id)
        event("agreement: recorded")

    def _open_invoices(self) -> list[tuple[Phone, str, str, Decimal]]:
        """(phone, client, invoice number, balance) of every open invoice a phone shows."""
        found = []
        for phone in self.world.phones:
            with phone.db() as session:
                for row in session.scalars(select(ClientMirror).order_by(ClientMirror.code)):
                    for i in row.open_invoices or []:
                        balance = Decimal(str(i["balance"]))
                        if balance > 0:
                            found.append((phone, row.id, str(i["number"]), balance))
        return found

    @precondition(lambda self: bool(self._open_invoices()))
    @rule(data=st.data(), kind=dispute_kinds, reason=dispute_reasons)
    def open_dispute(self, data: st.DataObject, kind: str, reason: str) -> None:
        """A glosa on an open invoice the phone shows, for at most its balance."""
        phone, client, number, balance = data.draw(st.sampled_from(self._open_invoices()))
        cents = data.draw(st.integers(min_value=1, max_value=int(balance * 100)))
        done = field_collections.record_dispute(
            phone.db,
            client_id=client,
            invoice_number=number,
            amount=Decimal(cents) / 100,
            kind=kind,  # type: ignore[arg-type]
            reason_code=reason,  # type: ignore[arg-type]
            now=phone.now(),
        )
        self._remember(phone, done.event_id)
        event("dispute: recorded")

    @rule(data=st.data(), method=handover_methods, amount=amounts)
    def hand_over(self, data: st.DataObject, method: str, amount: Decimal) -> None:
        """Some of a phone's cash in hand, deposited (with a reference) or taken to the office
        (cash of `amount` collected first when the phone holds none)."""
        phone = data.draw(st.sampled_from(self.world.phones))
        with phone.db() as session:
            in_hand = [p.event_id for p in cash_in_hand(session)]
        if not in_hand:
            client = data.draw(st.sampled_from(self._targets()))
            receipt = recording.record_payment(
                phone.db, client_id=client, amount=amount, method="cash", now=phone.now()
            )
            self._remember(phone, receipt.event_id)
            in_hand = [receipt.event_id]
        chosen = data.draw(st.lists(st.sampled_from(in_hand), min_size=1, max_size=4, unique=True))
        now = phone.now()
        done = record_handover(
            phone.db,
            method=method,  # type: ignore[arg-type]
            deposited_on=business_date(now, TZ),
            payment_event_ids=chosen,
            now=now,
            bank_reference=f"BCO-{phone.ticks}" if method == "bank_deposit" else "",
            tz=TZ,
        )
        self._remember(phone, done.event_id)
        event("handover: recorded")

    @rule(data=st.data(), skew=skews)
    def phone_clock(self, data: st.DataObject, skew: timedelta) -> None:
        """A phone's clock is set a year off (or fixed again): device time is data, never order."""
        data.draw(st.sampled_from(self.world.phones)).skew = skew

    @rule(data=st.data())
    def restart_phone(self, data: st.DataObject) -> None:
        """Kill and start the app again (migrations run): the outbox comes back unchanged."""
        phone = data.draw(st.sampled_from(self.world.phones))
        before = outbox_snapshot(phone)
        phone.restart()
        assert outbox_snapshot(phone) == before

    # --- the network ----------------------------------------------------------------------

    @rule(data=st.data(), faults=fault_plans, tamper=st.sampled_from(["malformed", "conflict"]))
    def sync(self, data: st.DataObject, faults: list[Fault], tamper: str) -> None:
        phone = data.draw(st.sampled_from(self.world.phones))
        phone.transport.plan(faults)
        phone.transport.wire_events = wire_events(tamper, random.Random(self.rng.random()))
        report = sync(phone, chunk=CHUNK)
        event(f"sync: {report.error_kind or 'ok'}")

    @rule()
    def replay_held(self) -> None:
        """Requests stuck in the network arrive now, late and in any order."""
        self.world.network.release_held(self.rng)

    @precondition(lambda self: self.since_heal >= 6)
    @rule()
    def heal_and_drain(self) -> None:
        """Now and then mid-run (it is costly; every example also ends with it)."""
        self._quiesce()

    # --- the office -----------------------------------------------------------------------

    @rule(data=st.data(), to=st.sampled_from([*LAYOUT, None]))
    def reassign(self, data: st.DataObject, to: str | None) -> None:
        client = data.draw(st.sampled_from(self.world.office.clients))
        assert self.world.office.reassign(self.server, client, to) == 200

    @precondition(lambda self: len(self.closed) < 2)
    @rule(data=st.data())
    def close_client(self, data: st.DataObject) -> None:
        client = data.draw(st.sampled_from(self.world.office.clients))
        self.world.office.close_client(client)
        self.closed.add(client)

    # Ids are random per run: what a rule draws from is listed in the order the phones recorded
    # it, so Hypothesis replays an example to the same choices.

    def _in_recorded_order(self, ids: list[uuid.UUID]) -> list[uuid.UUID]:
        order = {eid: n for n, eid in enumerate(self.recorded)}
        return sorted(ids, key=lambda i: order[str(i)])

    def _open_disputes(self) -> list[uuid.UUID]:
        found = self.world.office.session.scalars(
            select(Dispute.id).where(Dispute.status == "open")
        )
        return self._in_recorded_order(list(found))

    def _pending_handovers(self) -> list[tuple[uuid.UUID, Decimal]]:
        rows = self.world.office.session.execute(
            select(CashHandover.id, CashHandover.amount).where(CashHandover.status == "pending")
        )
        amounts: dict[uuid.UUID, Decimal] = dict(rows.all())
        return [(hid, amounts[hid]) for hid in self._in_recorded_order(list(amounts))]

    @precondition(lambda self: bool(self._open_disputes()))
    @rule(data=st.data(), accept=st.booleans())
    def decide_dispute(self, data: st.DataObject, accept: bool) -> None:
        """The office accepts an open dispute (a credit note on the invoice) or rejects it."""
        self._decide_dispute(data.draw(st.sampled_from(self._open_disputes())), accept)

    @precondition(lambda self: bool(self._pending_handovers()))
    @rule(data=st.data(), confirm=st.booleans())
    def decide_handover(self, data: st.DataObject, confirm: bool) -> None:
        """The office confirms a pending handover with the amount it sees, or rejects it."""
        self._decide_handover(*data.draw(st.sampled_from(self._pending_handovers())), confirm)

    def _decide_dispute(self, dispute: uuid.UUID, accept: bool) -> None:
        office = self.world.office
        if accept:
            r = office.decide(self.server, f"/v1/disputes/{dispute}/accept", {"note": "soportes"})
            if r.status_code == 200:
                event("dispute: accepted (credit note)")
                return
            # No invoice to credit, or it owes less than the glosa now: rejected instead.
            assert r.status_code == 422, r.text
            assert r.json()["error"]["code"] in ("invoice_unknown", "dispute_exceeds_balance")
        r = office.decide(self.server, f"/v1/disputes/{dispute}/reject", {"note": "sin soporte"})
        assert r.status_code == 200, r.text
        event("dispute: rejected")

    def _decide_handover(self, handover: uuid.UUID, amount: Decimal, confirm: bool) -> None:
        office = self.world.office
        path = f"/v1/cash/handovers/{handover}"
        if confirm:
            r = office.decide(self.server, f"{path}/confirm", {"amount": str(amount)})
            if r.status_code == 200:
                event("handover: confirmed")
                return
            # Held, or one of its payments was voided since: rejected instead.
            assert r.status_code == 409, r.text
            assert r.json()["error"]["code"] in ("handover_held", "handover_payment_voided")
        r = office.decide(self.server, f"{path}/reject", {"note": "no cuadra con el banco"})
        assert r.status_code == 200, r.text
        event("handover: rejected")

    def _office_decides_all(self) -> None:
        """Every open dispute and pending handover decided, alternately yes and no, so each
        example's quiescence sees the decisions reach the phones."""
        for n, dispute in enumerate(self._open_disputes()):
            self._decide_dispute(dispute, accept=n % 2 == 0)
        for n, (handover, amount) in enumerate(self._pending_handovers()):
            self._decide_handover(handover, amount, confirm=n % 2 == 0)

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def always(self) -> None:
        errors = [d for d in self.world.network.log if d.status and d.status >= 500]
        assert not errors, f"the server failed: {errors}"
        world = self.world
        self.since_heal += 1
        check_always(world.office.session, world.phones, self.recorded, world.network.injected)
        check_collections_work(world.office.session)

    def _quiesce(self) -> None:
        """Heal the network, let held requests arrive, and sync every phone twice: within those
        two cycles nothing may stay pending (liveness), and then every invariant holds."""
        world = self.world
        self.since_heal = 0
        for phone in world.phones:
            phone.transport.heal()
            phone.transport.wire_events = None
        world.network.release_held(self.rng)
        for _ in range(2):
            for phone in world.phones:
                report = sync(phone, chunk=CHUNK)
                assert report.ok, f"{phone.name} could not sync on a healthy network: {report}"
        # The office decides what the phones sent; one more cycle brings the decisions back.
        self._office_decides_all()
        for phone in world.phones:
            report = sync(phone, chunk=CHUNK)
            assert report.ok, f"{phone.name} could not sync on a healthy network: {report}"
        session = world.office.session
        session.expire_all()
        check_always(session, world.phones, self.recorded, world.network.injected)
        check_quiescent(session, world.phones, self.recorded)
        check_collections_work(session)
        check_cash_in_hand(session, world.phones, world.office.users)
        for phone in world.phones:
            check_converged(self.server, phone)
        self._check_held_reasons()

    def _check_held_reasons(self) -> None:
        """Money at a closed, reassigned or unknown client is held, never refused or lost."""
        session = self.world.office.session
        clients = {c.id: c for c in session.scalars(select(Client))}
        for e in session.scalars(
            select(InboundEvent).where(InboundEvent.type == "payment.collected")
        ):
            if str(e.event_id) in self.world.network.injected:
                continue
            client = clients.get(e.client_id) if e.client_id else None
            if client is None:
                assert (e.status, e.reason) == ("held", "client_unknown")
            elif e.status == "held":
                assert e.reason in ("client_closed", "client_reassigned", "amount_implausible")

    def teardown(self) -> None:
        try:
            self._quiesce()
        finally:
            self.world.close()


def machine_examples(profile: int) -> int:
    """An example here costs about a second: 10 in the default profile (60 elsewhere), 300 in
    chaos (2,000 elsewhere); RECAUDO_SYNC_EXAMPLES overrides both for a long hunt."""
    override = os.environ.get("RECAUDO_SYNC_EXAMPLES")
    if override:
        return int(override)
    return min(profile, 10) if profile <= 60 else min(profile, 300)


def run_machine(
    engine: Engine, app: FastAPI, server: TestClient, template: Path, workdir: Path
) -> None:
    SyncMachine.engine = engine
    SyncMachine.app = app
    SyncMachine.server = server
    SyncMachine.template = template
    SyncMachine.workdir = workdir
    current = settings()
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            current,
            max_examples=machine_examples(current.max_examples),
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def test_sync_under_faults(
    sync_engine: Engine,
    sync_app: FastAPI,
    server: TestClient,
    phone_template: Path,
    tmp_path: Path,
) -> None:
    run_machine(sync_engine, sync_app, server, phone_template, tmp_path)
