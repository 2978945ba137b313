"""GET /v1/sync/pull: worked examples on both engines. First sync sees exactly the scope; pushes,
reassignments and imports arrive as puts/removes after the cursor; paging neither skips nor repeats;
the checksum matches what the phone recomputes; 409/401/422 refusals."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.db.models import Client
from server.repositories import events as events_repo
from server.services import changes
from server.services.devices import rotate_server_epoch
from server.services.ledger_import.service import ImportOptions, import_records
from sync.checksum import scope_checksum
from sync.protocol import ClientData, PullResponse
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import (
    MakeUser,
    Phone,
    event,
    invoice,
    payment,
    promise,
    push,
    register_phone,
    statuses,
    visit,
)

D = Decimal


def pull(client: TestClient, phone: Phone, cursor: str | None = None, **params: Any) -> Any:
    query = {k: v for k, v in {"cursor": cursor, **params}.items() if v is not None}
    return client.get("/v1/sync/pull", params=query, headers=phone.headers)


def page(
    client: TestClient, phone: Phone, cursor: str | None = None, **params: Any
) -> PullResponse:
    r = pull(client, phone, cursor, **params)
    assert r.status_code == 200, r.text
    return PullResponse.model_validate(r.json())


def drain(client: TestClient, phone: Phone, cursor: str | None = None, limit: int = 500) -> Any:
    """Every page until has_more is false: (changes in order, last page, pages)."""
    changes_seen, pages = [], 0
    while True:
        p = page(client, phone, cursor, limit=limit)
        pages += 1
        changes_seen.extend(p.changes)
        cursor = p.next_cursor
        if not p.has_more:
            return changes_seen, p, pages


class Mirror:
    """What the phone keeps: client rows by id (version, data, change_seq), removes applied."""

    def __init__(self) -> None:
        self.clients: dict[str, tuple[int, dict[str, Any], int]] = {}
        self.statuses: dict[str, dict[str, Any]] = {}

    def apply(self, changes_seen: Any) -> None:
        for ch in changes_seen:
            if ch.entity == "event_status":
                self.statuses[ch.id] = ch.data
            elif ch.op == "remove":
                self.clients.pop(ch.id, None)
            elif ch.id not in self.clients or ch.version > self.clients[ch.id][0]:
                self.clients[ch.id] = (ch.version, ch.data, ch.seq)

    def checksum(self) -> Any:
        return scope_checksum(
            (uuid.UUID(cid), version, D(data["balance"]))
            for cid, (version, data, _) in self.clients.items()
        )


@pytest.fixture
def login_a(make_user: MakeUser) -> Login:
    return make_user("collector")


@pytest.fixture
def phone(client: TestClient, login_a: Login) -> Phone:
    return register_phone(client, login_a)


def _portfolio(session: Session, make_client, phone: Phone, other: Any) -> list[Client]:
    mine = [make_client(collector=phone.user, name=f"Mío {i}") for i in range(3)]
    make_client(collector=other, name="Ajeno")
    make_client(name="Sin gestor")
    invoice(session, mine[0], f"F-{uuid.uuid4().hex[:6]}", date(2026, 9, 30), "100000.00")
    invoice(session, mine[0], f"F-{uuid.uuid4().hex[:6]}", date(2027, 1, 31), "50000.00")
    return mine


def test_first_sync_is_exactly_the_scope_with_a_matching_checksum(
    client: TestClient, session: Session, phone: Phone, make_user: MakeUser, make_client, clock
) -> None:
    clock.now = clock.now.replace(year=2026, month=11, day=23, hour=15)
    other = make_user("collector").user
    mine = _portfolio(session, make_client, phone, other)
    seen, last, _ = drain(client, phone)
    assert sorted(ch.id for ch in seen) == sorted(str(c.id) for c in mine)
    assert {(ch.entity, ch.op) for ch in seen} == {("client", "put")}
    assert not last.has_more and last.scope_checksum is not None
    session.expire_all()
    data = {ch.id: ClientData.model_validate(ch.data) for ch in seen}
    first = data[str(mine[0].id)]
    assert first.balance == D("150000.00") and first.name == "Mío 0"
    assert [(i.balance, i.bucket) for i in first.invoices] == [
        (D("100000.00"), "31_60"),  # 54 days past due on 23/11/2026
        (D("50000.00"), "al_dia"),
    ]
    assert {ch.version for ch in seen if ch.id == str(mine[0].id)} == {mine[0].version}
    mirror = Mirror()
    mirror.apply(seen)
    assert mirror.checksum() == last.scope_checksum
    assert last.scope_checksum.clients == 3
    assert last.scope_checksum.balance_sum == D("150000.00")
    # Nothing changed: the next pull is empty and keeps the same checksum.
    again = page(client, phone, last.next_cursor)
    assert again.changes == () and again.scope_checksum == last.scope_checksum


def test_puts_leave_defaults_out(client: TestClient, phone: Phone, make_client) -> None:
    c = make_client(collector=phone.user, name="Solo nombre")
    r = pull(client, phone)
    (change,) = r.json()["changes"]
    assert change["id"] == str(c.id)
    assert change["data"] == {"code": c.code, "name": "Solo nombre", "balance": "0.00"}
    assert "reason" not in change


def test_payment_pushed_is_a_put_after_its_server_seq(
    client: TestClient, session: Session, phone: Phone, make_client, clock
) -> None:
    c = make_client(collector=phone.user)
    invoice(session, c, "F-PAY-1", date(2026, 9, 30), "300000.00")
    _, first, _ = drain(client, phone)
    p = payment(phone, c.id, "120000.00")
    r = push(client, phone, [p])
    assert statuses(r) == [("applied", None)]
    server_seq = r.json()["results"][0]["server_seq"]
    seen, last, _ = drain(client, phone, first.next_cursor)
    (put,) = [ch for ch in seen if ch.entity == "client"]
    assert put.id == str(c.id) and put.op == "put"
    assert put.seq > server_seq
    assert ClientData.model_validate(put.data).balance == D("180000.00")
    assert last.scope_checksum is not None
    assert last.scope_checksum.balance_sum == D("180000.00")


def test_visit_and_promise_reach_the_data(
    client: TestClient, session: Session, phone: Phone, make_client, clock
) -> None:
    clock.now = clock.now.replace(year=2026, month=11, day=23, hour=15)
    c = make_client(collector=phone.user)
    invoice(session, c, "F-PR-1", date(2026, 9, 30), "300000.00")
    _, first, _ = drain(client, phone)
    events = [visit(phone, c.id, "promise"), promise(phone, c.id, "100000.00")]
    assert [s for s, _ in statuses(push(client, phone, events))] == ["applied", "applied"]
    seen, _, _ = drain(client, phone, first.next_cursor)
    (put,) = [ch for ch in seen if ch.entity == "client"]
    data = ClientData.model_validate(put.data)
    assert [(v.day, v.outcome) for v in data.visits] == [(date(2026, 11, 23), "promise")]
    assert [(p.amount, p.due_date) for p in data.promises] == [(D("100000.00"), date(2026, 11, 30))]


def test_a_put_carries_the_three_next_pending_promises(
    client: TestClient, session: Session, phone: Phone, make_client, clock
) -> None:
    clock.now = clock.now.replace(year=2026, month=11, day=23, hour=15)
    c = make_client(collector=phone.user)
    invoice(session, c, "F-PR-2", date(2026, 9, 30), "900000.00")
    _, first, _ = drain(client, phone)
    dues = ["2026-12-20", "2026-11-28", "2026-12-05", "2026-11-25", "2026-12-01"]
    promised = [
        event(phone, "promise.made", c.id, {"amount": "10000.00", "due_date": due}) for due in dues
    ]
    assert {s for s, _ in statuses(push(client, phone, promised))} == {"applied"}
    seen, _, _ = drain(client, phone, first.next_cursor)
    (put,) = [ch for ch in seen if ch.entity == "client"]
    data = ClientData.model_validate(put.data)
    assert [p.due_date for p in data.promises] == [
        date(2026, 11, 25),
        date(2026, 11, 28),
        date(2026, 12, 1),
    ]


def test_reassignment_is_a_remove_for_a_and_a_put_for_b(
    client: TestClient,
    session: Session,
    phone: Phone,
    make_user: MakeUser,
    make_client,
) -> None:
    login_b = make_user("collector")
    phone_b = register_phone(client, login_b)
    office = make_user("supervisor")
    c = make_client(collector=phone.user)
    _, a0, _ = drain(client, phone)
    _, b0, _ = drain(client, phone_b)
    r = client.put(
        f"/v1/clients/{c.id}/assignment",
        json={"collector": login_b.user.username},
        headers=office.headers,
    )
    assert r.status_code == 200, r.text
    seen_a, last_a, _ = drain(client, phone, a0.next_cursor)
    assert [(ch.id, ch.op, ch.reason) for ch in seen_a] == [(str(c.id), "remove", "reassigned")]
    assert last_a.scope_checksum is not None and last_a.scope_checksum.clients == 0
    seen_b, last_b, _ = drain(client, phone_b, b0.next_cursor)
    assert [(ch.id, ch.op) for ch in seen_b] == [(str(c.id), "put")]
    session.expire_all()
    assert seen_b[0].version == session.get(Client, c.id).version  # type: ignore[union-attr]
    assert last_b.scope_checksum is not None and last_b.scope_checksum.clients == 1


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_paging_resumes_without_gaps_or_repeats(
    client: TestClient, session: Session, phone: Phone, make_client, limit: int
) -> None:
    clients = [make_client(collector=phone.user) for _ in range(6)]
    statuses_written = [(uuid.uuid4(), "held", f"nota {i}") for i in range(2)]
    changes.event_statuses(session, phone.user.id, statuses_written)
    session.commit()
    seen, last, pages = drain(client, phone, limit=limit)
    assert pages == -(-8 // limit)  # every page full but the last
    ids = [ch.id for ch in seen]
    assert len(ids) == len(set(ids)) == 8
    assert set(ids) == {str(c.id) for c in clients} | {str(e) for e, _, _ in statuses_written}
    # Changes after the first sync, paged again.
    changes.clients_changed(session, [c.id for c in clients[:5]])
    session.commit()
    later, _, _ = drain(client, phone, last.next_cursor, limit=limit)
    assert sorted(ch.id for ch in later) == sorted(str(c.id) for c in clients[:5])
    assert [ch.seq for ch in later] == sorted(ch.seq for ch in later)


def test_has_more_and_page_sizes(client: TestClient, phone: Phone, make_client) -> None:
    for _ in range(5):
        make_client(collector=phone.user)
    p1 = page(client, phone, limit=2)
    assert (len(p1.changes), p1.has_more, p1.scope_checksum) == (2, True, None)
    p2 = page(client, phone, p1.next_cursor, limit=2)
    assert (len(p2.changes), p2.has_more) == (2, True)
    p3 = page(client, phone, p2.next_cursor, limit=2)
    assert (len(p3.changes), p3.has_more) == (1, False)
    assert p3.scope_checksum is not None and p3.scope_checksum.clients == 5


def test_event_status_is_delivered_to_a_resyncing_phone(
    client: TestClient, session: Session, phone: Phone
) -> None:
    event_id = uuid.uuid4()
    changes.event_statuses(session, phone.user.id, [(event_id, "held", "client_closed")])
    session.commit()
    seen, _, _ = drain(client, phone)
    assert [(ch.entity, ch.id, ch.data) for ch in seen] == [
        ("event_status", str(event_id), {"status": "held", "note": "client_closed"})
    ]


def test_gzip_when_accepted(client: TestClient, phone: Phone, make_client) -> None:
    for i in range(20):
        make_client(collector=phone.user, name=f"Cliente comprimido {i}", address="Cra 7 # 1-2")
    r = client.get("/v1/sync/pull", headers={**phone.headers, "Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert len(r.json()["changes"]) == 20  # httpx inflates it
    raw = client.get("/v1/sync/pull", headers={**phone.headers, "Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert json.loads(raw.content)["changes"] == r.json()["changes"]


# --- refusals --------------------------------------------------------------------------------


def _code(r: Any) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_malformed_cursors_need_a_resync(client: TestClient, phone: Phone, make_client) -> None:
    make_client(collector=phone.user)
    good = page(client, phone).next_cursor
    epoch = page(client, phone).server_epoch
    for bad in (
        "x",
        "%%%",
        good + "A",
        _cursor(f"c1.{epoch}.l.-1.0.-"),
        _cursor(f"c2.{epoch}.l.1.0.-"),
        _cursor(f"c1.{epoch}.l.01.0.-"),
        _cursor(f"c1.{epoch}.s.0.0.nothex"),
    ):
        assert _code(pull(client, phone, bad)) == (409, "resync_required"), bad


def test_cursor_of_another_epoch_needs_a_resync(
    client: TestClient, session: Session, phone: Phone, make_client, clock: FakeClock
) -> None:
    make_client(collector=phone.user)
    cursor = page(client, phone).next_cursor
    clock.advance(1)
    rotate_server_epoch(session, now=clock.now + timedelta(seconds=1), reason="restored")
    session.commit()
    r = pull(client, phone, cursor)
    assert _code(r) == (409, "resync_required")
    assert r.json()["error"]["details"] == {"reason": "epoch_changed"}
    assert pull(client, phone).status_code == 200  # starting over works


def test_cursor_older_than_the_floor_needs_a_resync(
    client: TestClient, session: Session, phone: Phone, make_client
) -> None:
    c = make_client(collector=phone.user)
    old = drain(client, phone)[1].next_cursor
    changes.clients_changed(session, [c.id])
    changes.prune_removes(session, events_repo.allocate_server_seqs(session, 1) + 1)
    session.commit()
    r = pull(client, phone, old)
    assert _code(r) == (409, "resync_required")
    assert r.json()["error"]["details"] == {"reason": "cursor_expired"}


@pytest.mark.parametrize("limit", [0, 1001, -1])
def test_limit_outside_1_to_1000_is_422(client: TestClient, phone: Phone, limit: int) -> None:
    assert _code(pull(client, phone, limit=limit)) == (422, "invalid_input")


def test_pull_needs_a_device_token(client: TestClient, login_a: Login) -> None:
    r = client.get("/v1/sync/pull", headers=login_a.headers)
    assert _code(r) == (401, "device_token_required")
    assert _code(client.get("/v1/sync/pull")) == (401, "not_authenticated")


def test_revoked_device_is_401(client: TestClient, phone: Phone, make_user: MakeUser) -> None:
    admin = make_user("admin")
    r = client.post(f"/v1/devices/{phone.device_id}/revoke", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert _code(pull(client, phone)) == (401, "device_revoked")


def _records(rows: list[tuple[str, str, str, str | None]]) -> list[dict[str, object]]:
    """(client code, invoice number, saldo, gestor) rows of an import."""
    return [
        {
            "codigo_cliente": code,
            "nombre_cliente": f"Cliente {code}",
            "factura": number,
            "fecha_vencimiento": "30/09/2026",
            "valor": "100000,00",
            "saldo": saldo,
            "gestor": gestor or "",
        }
        for code, number, saldo, gestor in rows
    ]


def _import(session: Session, rows: list[tuple[str, str, str, str | None]]) -> None:
    options = ImportOptions(
        filename="cartera.csv", sha256=uuid.uuid4().hex, as_of=date(2026, 11, 23)
    )
    summary = import_records(session, _records(rows), options)
    assert summary.written, summary
    session.commit()


def test_import_puts_every_affected_client_and_moves_reassigned_ones(
    client: TestClient, session: Session, phone: Phone, make_user: MakeUser
) -> None:
    login_b = make_user("collector")
    phone_b = register_phone(client, login_b)
    a, b = phone.user.username, login_b.user.username
    tag = uuid.uuid4().hex[:6]
    x, y, z, w, n = (f"{k}-{tag}" for k in "XYZWN")
    _, a0, _ = drain(client, phone)
    _, b0, _ = drain(client, phone_b)
    first = [
        (x, f"F1-{tag}", "100000,00", a),
        (y, f"F2-{tag}", "40000,00", a),
        (z, f"F3-{tag}", "0,00", a),
        (w, f"F4-{tag}", "70000,00", b),
        (n, f"F5-{tag}", "10000,00", None),
    ]
    _import(session, first)
    seen_a, last_a, _ = drain(client, phone, a0.next_cursor)
    by_code = {ch.data["code"]: ch for ch in seen_a}
    assert sorted(by_code) == sorted([x, y, z])
    assert {c: by_code[c].data["balance"] for c in by_code} == {
        x: "100000.00",
        y: "40000.00",
        z: "0.00",
    }
    seen_b, last_b, _ = drain(client, phone_b, b0.next_cursor)
    assert [ch.data["code"] for ch in seen_b] == [w]
    # The same file again changes nothing: nothing to pull.
    _import(session, first)
    assert page(client, phone, last_a.next_cursor).changes == ()
    # A new balance for X, Y given to B.
    _import(session, [(x, f"F1-{tag}", "60000,00", a), (y, f"F2-{tag}", "40000,00", b)])
    seen_a2, end_a, _ = drain(client, phone, last_a.next_cursor)
    ids = {by_code[x].id: x, by_code[y].id: y}
    assert sorted((ids[ch.id], ch.op) for ch in seen_a2) == [(x, "put"), (y, "remove")]
    assert [ch.data["balance"] for ch in seen_a2 if ch.op == "put"] == ["60000.00"]
    assert end_a.scope_checksum is not None and end_a.scope_checksum.clients == 2
    seen_b2, _, _ = drain(client, phone_b, last_b.next_cursor)
    assert [(ch.data["code"], ch.op) for ch in seen_b2] == [(y, "put")]


def test_changes_during_a_first_sync_arrive_once_each(
    client: TestClient, session: Session, phone: Phone, make_client
) -> None:
    ordered = sorted((make_client(collector=phone.user) for _ in range(3)), key=lambda c: c.id)
    p1 = page(client, phone, limit=2)
    assert [ch.id for ch in p1.changes] == [str(c.id) for c in ordered[:2]]
    # Both change after the snapshot began: the first was sent already, the third was not.
    changes.clients_changed(session, [ordered[0].id, ordered[2].id])
    session.commit()
    p2 = page(client, phone, p1.next_cursor, limit=5)
    assert [ch.id for ch in p2.changes] == [str(ordered[2].id), str(ordered[0].id)]
    session.expire_all()
    assert [ch.version for ch in p2.changes] == [ordered[2].version, ordered[0].version] == [2, 2]
    assert not p2.has_more


def test_deactivated_collector_is_401(client: TestClient, session: Session, phone: Phone) -> None:
    phone.user.active = False
    session.merge(phone.user)
    session.commit()
    assert _code(pull(client, phone)) == (401, "user_disabled")
