"""One small world for example-based sync tests: ana with two phones, beto with one, the real
app between them, and the test's memory of every event the phones wrote."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from mobile.services import recording
from mobile.services.exporting import push_bodies
from tests.sync.invariants import Row, check_always, check_converged, check_quiescent, recorded_row
from tests.sync.rig import APP_VERSION, Phone, World, sync

D = Decimal


class Case:
    """One world with ana (two phones) and beto (one), and the test's memory of what they wrote."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.recorded: dict[str, Row] = {}
        self.ana1, self.ana2, self.beto = world.phones
        self.session = world.office.session

    def pay(self, phone: Phone, amount: str, client: uuid.UUID | None = None) -> str:
        receipt = recording.record_payment(
            phone.db,
            client_id=client or self.client_of(phone),
            amount=D(amount),
            method="cash",
            now=phone.now(),
        )
        self.recorded[receipt.event_id] = recorded_row(phone, receipt.event_id)
        return receipt.event_id

    def client_of(self, phone: Phone) -> uuid.UUID:
        return self.world.office.clients[0 if phone.username == "ana" else 2]

    def header(self, phone: Phone) -> dict[str, Any]:
        """A push body of this phone with no events yet."""
        return {
            "protocol": 1,
            "device_id": phone.device_id,
            "app_version": APP_VERSION,
            "events": [],
        }

    def body(self, phone: Phone) -> dict[str, Any]:
        """The phone's pending rows as its one push body."""
        with phone.db() as session:
            (body,) = push_bodies(session, app_version=APP_VERSION)
        return body

    def post(self, phone: Phone, content: bytes, headers: dict[str, str] | None = None) -> Any:
        return self.world.server.post(
            "/v1/sync/push",
            content=content,
            headers={**phone.headers, "Content-Type": "application/json", **(headers or {})},
        )

    def check(self, injected: dict[str, Any] | None = None) -> None:
        self.session.expire_all()
        check_always(self.session, self.world.phones, self.recorded, injected or {})

    def drain(self, injected: dict[str, Any] | None = None) -> None:
        """Heal, sync every phone twice: everything lands exactly once."""
        for phone in self.world.phones:
            phone.transport.heal()
        for _ in range(2):
            for phone in self.world.phones:
                assert sync(phone, chunk=200).ok
        self.check(injected)
        check_quiescent(self.session, self.world.phones, self.recorded)
        for phone in self.world.phones:
            check_converged(self.world.server, phone)
