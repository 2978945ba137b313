"""Reconciliation by receipt number: per device, the `device_seq`s the server holds against the
ones the phone recorded (sync-protocol.md: `device_seq` is strictly increasing per device and
"used for receipt numbers and gap detection"; a receipt `<device_code>-<device_seq>` missing on
the server is a hole).

`gaps` answers, for each phone with a problem, the device_seqs it recorded that the server does
not hold, the ones the server holds that the phone never recorded, and the holes inside the
server's own sequence (1..max without the phone's view: what the office could see alone)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from mobile.data.models import OutboxRow
from server.db.engine import make_engine, make_session_factory
from server.db.models import InboundEvent
from tests.chaos.phones import SimPhone


@dataclass(frozen=True)
class Gap:
    missing_on_server: frozenset[int]  # recorded on the phone, not on the server
    unknown_to_phone: frozenset[int]  # on the server, never recorded by the phone
    holes: frozenset[int]  # below the server's highest device_seq for the device, not held

    def __bool__(self) -> bool:
        return bool(self.missing_on_server or self.unknown_to_phone or self.holes)


def server_seqs(server_url: str, device_ids: list[str]) -> dict[str, list[int]]:
    """Every device_seq the server recorded per device (repeats kept: one would be a bug)."""
    engine = make_engine(server_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(InboundEvent.device_id, InboundEvent.device_seq).where(
                    InboundEvent.device_id.in_([uuid.UUID(d) for d in device_ids])
                )
            ).all()
    finally:
        engine.dispose()
    out: dict[str, list[int]] = {d: [] for d in device_ids}
    for device_id, seq in rows:
        if seq is not None:
            out[str(device_id)].append(int(seq))
    return out


def phone_seqs(phone: SimPhone) -> set[int]:
    with phone.phone.db() as session:
        return set(session.scalars(select(OutboxRow.device_seq)))


def gaps(server_url: str, phones: list[SimPhone]) -> dict[str, Gap]:
    held = server_seqs(server_url, [p.phone.device_id for p in phones])
    out: dict[str, Gap] = {}
    for phone in phones:
        on_server = held[phone.phone.device_id]
        if len(on_server) != len(set(on_server)):
            raise AssertionError(f"{phone.name}: a device_seq is recorded twice on the server")
        server, mine = set(on_server), phone_seqs(phone)
        holes = set(range(1, max(server, default=0) + 1)) - server
        gap = Gap(frozenset(mine - server), frozenset(server - mine), frozenset(holes))
        if gap:
            out[phone.name] = gap
    return out
