"""The change log writers (server/services/changes.py): seqs from the server_seq counter, one row
per entity per scope (upserted), set-based statements, reassignment remove + put."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from server.db.models import ChangeLog, Client
from server.repositories import changes as changes_repo
from server.repositories import events as events_repo
from server.services import changes
from tests.server.sync_helpers import MakeUser


def _rows(session: Session, user_id: uuid.UUID) -> list[tuple[str, uuid.UUID, str, str | None]]:
    stmt = select(ChangeLog).where(ChangeLog.user_id == user_id).order_by(ChangeLog.seq)
    return [(r.entity, r.entity_id, r.op, r.reason) for r in session.scalars(stmt)]


def _seq(session: Session, user_id: uuid.UUID, entity_id: uuid.UUID) -> int:
    seq = session.scalar(
        select(ChangeLog.seq).where(ChangeLog.user_id == user_id, ChangeLog.entity_id == entity_id)
    )
    assert seq is not None
    return seq


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    conn = session.connection()

    def _count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(conn, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", _count)


def test_clients_changed_bumps_versions_and_puts_after_the_events(
    session: Session, make_user: MakeUser, make_client
) -> None:
    a, b = make_user("collector").user, make_user("collector").user
    c1, c2 = make_client(collector=a), make_client(collector=b)
    nobody = make_client()
    last_event = events_repo.allocate_server_seqs(session, 3) + 2
    changes.clients_changed(session, [c1.id, c2.id, nobody.id, uuid.uuid4()])
    session.expire_all()
    assert (c1.version, c2.version, nobody.version) == (2, 2, 2)
    assert _rows(session, a.id) == [("client", c1.id, "put", None)]
    assert _rows(session, b.id) == [("client", c2.id, "put", None)]
    assert _seq(session, a.id, c1.id) > last_event and _seq(session, b.id, c2.id) > last_event
    # A second change moves the one row of the client to a new, higher seq.
    before = _seq(session, a.id, c1.id)
    changes.clients_changed(session, [c1.id])
    assert len(_rows(session, a.id)) == 1 and _seq(session, a.id, c1.id) > before


def test_clients_changed_is_set_based(session: Session, make_user: MakeUser) -> None:
    a = make_user("collector").user
    clients = [Client(code=f"S-{i:03d}", name="x", collector_id=a.id) for i in range(200)]
    session.add_all(clients)
    session.flush()
    with _statements(session) as seen:
        changes.clients_changed(session, [c.id for c in clients])
    assert len(seen) == 3, seen
    assert len(_rows(session, a.id)) == 200
    seqs = session.scalars(select(ChangeLog.seq).where(ChangeLog.user_id == a.id)).all()
    assert len(set(seqs)) == 200


def test_event_statuses_put_data_in_the_scope(session: Session, make_user: MakeUser) -> None:
    a = make_user("collector").user
    e1, e2 = uuid.uuid4(), uuid.uuid4()
    with _statements(session) as seen:
        changes.event_statuses(session, a.id, [(e1, "held", "client_closed"), (e2, "applied", "")])
    assert len(seen) == 2
    rows = session.scalars(
        select(ChangeLog).where(ChangeLog.user_id == a.id).order_by(ChangeLog.seq)
    ).all()
    assert [(r.entity, r.entity_id, r.data) for r in rows] == [
        ("event_status", e1, {"status": "held", "note": "client_closed"}),
        ("event_status", e2, {"status": "applied"}),
    ]


def test_reassignment_removes_from_old_and_puts_to_new(
    session: Session, make_user: MakeUser, make_client
) -> None:
    a, b = make_user("collector").user, make_user("collector").user
    c = make_client(collector=a)
    changes.clients_changed(session, [c.id])
    c.collector_id = b.id
    session.flush()
    changes.client_reassigned(session, c.id, a.id, b.id)
    assert _rows(session, a.id) == [("client", c.id, "remove", "reassigned")]
    assert _rows(session, b.id) == [("client", c.id, "put", None)]
    assert _seq(session, b.id, c.id) > _seq(session, a.id, c.id)
    # And back: A's row turns into a put again, at a new seq.
    c.collector_id = a.id
    session.flush()
    changes.client_reassigned(session, c.id, b.id, a.id)
    assert _rows(session, a.id) == [("client", c.id, "put", None)]
    assert _rows(session, b.id) == [("client", c.id, "remove", "reassigned")]


def test_prune_raises_the_floor_and_forgets_old_removes(
    session: Session, make_user: MakeUser, make_client
) -> None:
    a, b = make_user("collector").user, make_user("collector").user
    c = make_client(collector=b)
    changes.client_reassigned(session, c.id, a.id, b.id)
    cut = events_repo.allocate_server_seqs(session, 1)
    assert changes.prune_removes(session, cut) == 1
    assert _rows(session, a.id) == []
    assert _rows(session, b.id) == [("client", c.id, "put", None)]
    assert changes_repo.counter_value(session, changes_repo.CHANGE_FLOOR) == cut
