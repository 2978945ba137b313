"""Disputes (glosas y devoluciones): from the phone through the real push and from the office,
decided once (accepted -> a credit note, rejected -> stays due). Worked examples by hand on
both engines: invoice 1.000.000, glosa 300.000 accepted 200.000 -> balance 800.000."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    AuditLog,
    ChangeLog,
    Client,
    CreditNote,
    Dispute,
    Invoice,
    LedgerEntry,
    ReviewItem,
)
from tests.server.conftest import Login
from tests.server.sync_helpers import (
    MakeUser,
    Phone,
    check_invariants,
    event,
    invoice,
    payment,
    push,
    register_phone,
    statuses,
)

D = Decimal


@pytest.fixture
def phone(client: TestClient, make_user: MakeUser) -> Phone:
    return register_phone(client, make_user("collector"))


@pytest.fixture
def office(make_user: MakeUser) -> Login:
    return make_user("supervisor")


def _dispute_event(
    phone: Phone, client_id: uuid.UUID | str, number: str, amount: str, **payload: Any
) -> dict[str, Any]:
    body = {"invoice_number": number, "amount": amount, "reason_code": "tariffs", **payload}
    return event(phone, "dispute.opened", client_id, body)


def _balances(session: Session, c: Client, inv: Invoice) -> tuple[Decimal, Decimal]:
    session.expire_all()
    client_row = session.get(Client, c.id)
    invoice_row = session.get(Invoice, inv.id)
    assert client_row is not None and invoice_row is not None
    return client_row.balance, invoice_row.balance


def _reviews(session: Session, event_id: str) -> list[str]:
    rows = session.scalars(select(ReviewItem).where(ReviewItem.event_id == uuid.UUID(event_id)))
    return [r.reason for r in rows]


# --- from the phone --------------------------------------------------------------------------


def test_a_field_dispute_is_stored_open_on_the_invoice_and_a_retry_is_a_duplicate(
    client: TestClient, session: Session, make_client: Any, phone: Phone
) -> None:
    c = make_client(collector=phone.user)
    inv = invoice(session, c, "FE-100", date(2026, 10, 31), "1000000.00")
    e = _dispute_event(phone, c.id, "FE-100", "300000.00", notes="tarifa pactada distinta")
    assert statuses(push(client, phone, [e])) == [("applied", None)]
    session.expire_all()
    d = session.get(Dispute, uuid.UUID(e["event_id"]))
    assert d is not None
    assert (d.invoice_id, d.amount, d.status, d.origin, d.kind) == (
        inv.id,
        D("300000.00"),
        "open",
        "field",
        "dispute",
    )
    assert d.event_id == d.id and d.opened_by == phone.user.id
    assert d.reason_code == "tariffs" and d.notes == "tarifa pactada distinta"
    # An open dispute moves no money.
    assert _balances(session, c, inv) == (D("1000000.00"), D("1000000.00"))
    again = push(client, phone, [e])
    assert statuses(again) == [("duplicate", None)]
    session.expire_all()
    assert len(session.scalars(select(Dispute).where(Dispute.client_id == c.id)).all()) == 1
    check_invariants(session)


def test_an_unknown_invoice_is_stored_without_it_and_held_for_review(
    client: TestClient, session: Session, make_client: Any, phone: Phone
) -> None:
    c = make_client(collector=phone.user)
    other = make_client(collector=phone.user)
    invoice(session, other, "FE-OTHER", date(2026, 10, 31), "500000.00")
    # A number of another client's invoice is unknown for this client too.
    e1 = _dispute_event(phone, c.id, "FE-NOPE", "1000.00")
    e2 = _dispute_event(phone, c.id, "FE-OTHER", "1000.00")
    assert statuses(push(client, phone, [e1, e2])) == [
        ("held", "invoice_unknown"),
        ("held", "invoice_unknown"),
    ]
    session.expire_all()
    for e in (e1, e2):
        d = session.get(Dispute, uuid.UUID(e["event_id"]))
        assert d is not None and d.invoice_id is None and d.status == "open"
        assert _reviews(session, e["event_id"]) == ["invoice_unknown"]


def test_more_than_the_open_balance_is_held_counting_the_chunks_payments_and_disputes(
    client: TestClient, session: Session, make_client: Any, phone: Phone
) -> None:
    c = make_client(collector=phone.user)
    inv = invoice(session, c, "FE-200", date(2026, 10, 31), "1000000.00")
    pay = payment(phone, c.id, "400000.00")  # leaves 600.000 on FE-200
    first = _dispute_event(phone, c.id, "FE-200", "500000.00")  # fits
    second = _dispute_event(phone, c.id, "FE-200", "100000.01")  # 500.000 already disputed
    assert statuses(push(client, phone, [pay, first, second])) == [
        ("applied", None),
        ("applied", None),
        ("held", "dispute_exceeds_balance"),
    ]
    session.expire_all()
    held = session.get(Dispute, uuid.UUID(second["event_id"]))
    assert held is not None and held.invoice_id == inv.id and held.status == "open"
    assert _reviews(session, second["event_id"]) == ["dispute_exceeds_balance"]
    # A later push sees the open disputes in the database.
    third = _dispute_event(phone, c.id, "FE-200", "0.01")
    assert statuses(push(client, phone, [third])) == [("held", "dispute_exceeds_balance")]
    check_invariants(session)


def test_an_unknown_client_is_held_with_no_row_and_a_reassigned_one_is_stored_and_held(
    client: TestClient, session: Session, make_client: Any, make_user: MakeUser, phone: Phone
) -> None:
    someone = make_user("collector")
    theirs = make_client(collector=someone.user)
    invoice(session, theirs, "FE-300", date(2026, 10, 31), "100000.00")
    unknown = _dispute_event(phone, uuid.uuid4(), "FE-300", "1000.00")
    reassigned = _dispute_event(phone, theirs.id, "FE-300", "1000.00")
    assert statuses(push(client, phone, [unknown, reassigned])) == [
        ("held", "client_unknown"),
        ("held", "client_reassigned"),
    ]
    session.expire_all()
    assert session.get(Dispute, uuid.UUID(unknown["event_id"])) is None
    assert session.get(Dispute, uuid.UUID(reassigned["event_id"])) is not None


# --- in the office ---------------------------------------------------------------------------


def test_worked_example_glosa_300000_accepted_200000_leaves_800000(
    client: TestClient, session: Session, make_client: Any, phone: Phone, office: Login
) -> None:
    c = make_client(collector=phone.user)
    inv = invoice(session, c, "FE-1000", date(2026, 10, 31), "1000000.00")
    e = _dispute_event(phone, c.id, "FE-1000", "300000.00", reason_code="pertinence")
    assert statuses(push(client, phone, [e])) == [("applied", None)]
    dispute_id = e["event_id"]

    listed = client.get("/v1/disputes", headers=office.headers, params={"client": str(c.id)})
    assert listed.status_code == 200, listed.text
    assert [(i["id"], i["amount"], i["status"]) for i in listed.json()["items"]] == [
        (dispute_id, "300000.00", "open")
    ]
    seq_before = session.scalar(select(ChangeLog.seq).order_by(ChangeLog.seq.desc()).limit(1))

    r = client.post(
        f"/v1/disputes/{dispute_id}/accept",
        headers=office.headers,
        json={"accepted_amount": "200000.00", "note": "soportes parciales"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["accepted_amount"], body["decided_by"]) == (
        "accepted",
        "200000.00",
        office.user.username,
    )
    assert [
        (n["kind"], n["amount"], n["approved_by"], n["reason_code"]) for n in body["credit_notes"]
    ] == [("credit_note", "-200000.00", office.user.username, "pertinence")]
    # The rest (100.000) stays due: balance 800.000.
    assert _balances(session, c, inv) == (D("800000.00"), D("800000.00"))
    note = session.scalars(select(CreditNote).where(CreditNote.client_id == c.id)).one()
    assert note.approved_by == office.user.id and note.dispute_id == uuid.UUID(dispute_id)
    entry = session.get(LedgerEntry, note.entry_id)
    assert entry is not None
    assert (entry.kind, entry.amount, entry.source) == ("adjustment", D("-200000.00"), "manual")
    audit = session.scalars(select(AuditLog).where(AuditLog.entity_id == dispute_id)).one()
    assert audit.action == "dispute.accept" and audit.actor_id == office.user.id
    # The collector's phone gets a new put of the client.
    puts = session.scalars(
        select(ChangeLog).where(ChangeLog.entity_id == c.id, ChangeLog.seq > (seq_before or 0))
    ).all()
    assert puts

    again = client.post(
        f"/v1/disputes/{dispute_id}/reject", headers=office.headers, json={"note": "x"}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "dispute_decided"
    assert _balances(session, c, inv) == (D("800000.00"), D("800000.00"))
    check_invariants(session)


def test_the_office_opens_and_rejects_a_dispute_and_it_stays_due(
    client: TestClient, session: Session, make_client: Any, office: Login
) -> None:
    c = make_client()
    inv = invoice(session, c, "FE-400", date(2026, 10, 31), "250000.00")
    url = f"/v1/clients/{c.id}/disputes"
    opened = client.post(
        url,
        headers=office.headers,
        json={
            "invoice_number": "FE-400",
            "amount": "250000.00",
            "kind": "return",
            "reason_code": "return",
            "notes": "devolución total",
        },
    )
    assert opened.status_code == 201, opened.text
    d = opened.json()
    assert (d["origin"], d["kind"], d["status"], d["opened_by"]) == (
        "office",
        "return",
        "open",
        office.user.username,
    )
    # Nothing left to dispute on FE-400.
    more = client.post(
        url,
        headers=office.headers,
        json={"invoice_number": "FE-400", "amount": "0.01", "reason_code": "billing"},
    )
    assert more.status_code == 422 and more.json()["error"]["code"] == "dispute_exceeds_balance"
    no_note = client.post(f"/v1/disputes/{d['id']}/reject", headers=office.headers, json={})
    assert no_note.status_code == 422 and no_note.json()["error"]["code"] == "note_required"
    rejected = client.post(
        f"/v1/disputes/{d['id']}/reject",
        headers=office.headers,
        json={"note": "la devolución no tiene acta de recibo"},
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["credit_notes"] == []
    assert _balances(session, c, inv) == (D("250000.00"), D("250000.00"))
    twice = client.post(f"/v1/disputes/{d['id']}/accept", headers=office.headers, json={})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "dispute_decided"
    listed = client.get("/v1/disputes", headers=office.headers, params={"status": "rejected"})
    assert [i["id"] for i in listed.json()["items"]] == [d["id"]]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"invoice_number": "FE-NO", "amount": "1.00", "reason_code": "other"},
            422,
            "invoice_not_found",
        ),
        (
            {"invoice_number": "FE-500", "amount": "0.00", "reason_code": "other"},
            422,
            "invalid_amount",
        ),
        (
            {"invoice_number": "FE-500", "amount": "1.00", "reason_code": "mood"},
            422,
            "invalid_input",
        ),
        ({"invoice_number": "FE-500", "amount": 1.5, "reason_code": "other"}, 422, "invalid_input"),
    ],
)
def test_bad_office_input_changes_nothing(
    client: TestClient,
    session: Session,
    make_client: Any,
    office: Login,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    c = make_client()
    invoice(session, c, "FE-500", date(2026, 10, 31), "100.00")
    r = client.post(f"/v1/clients/{c.id}/disputes", headers=office.headers, json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    session.expire_all()
    assert session.scalars(select(Dispute).where(Dispute.client_id == c.id)).all() == []


def test_accept_checks_the_amount_and_needs_a_known_invoice(
    client: TestClient, session: Session, make_client: Any, phone: Phone, office: Login
) -> None:
    c = make_client(collector=phone.user)
    invoice(session, c, "FE-600", date(2026, 10, 31), "100000.00")
    known = _dispute_event(phone, c.id, "FE-600", "50000.00")
    unknown = _dispute_event(phone, c.id, "FE-XXX", "50000.00")
    push(client, phone, [known, unknown])
    for amount in ("50000.01", "0.00", "-1.00"):
        r = client.post(
            f"/v1/disputes/{known['event_id']}/accept",
            headers=office.headers,
            json={"accepted_amount": amount},
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_accepted_amount"
    r = client.post(f"/v1/disputes/{unknown['event_id']}/accept", headers=office.headers, json={})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invoice_unknown"
    missing = client.get(f"/v1/disputes/{uuid.uuid4()}", headers=office.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "dispute_not_found"
    # Default: the whole amount.
    r = client.post(f"/v1/disputes/{known['event_id']}/accept", headers=office.headers, json={})
    assert r.status_code == 200 and r.json()["accepted_amount"] == "50000.00"
    session.expire_all()
    assert session.get(Client, c.id).balance == D("50000.00")  # type: ignore[union-attr]


def test_collectors_cannot_decide(
    client: TestClient, session: Session, make_client: Any, phone: Phone, make_user: MakeUser
) -> None:
    c = make_client(collector=phone.user)
    invoice(session, c, "FE-700", date(2026, 10, 31), "100000.00")
    e = _dispute_event(phone, c.id, "FE-700", "1000.00")
    push(client, phone, [e])
    collector = make_user("collector")
    r = client.post(f"/v1/disputes/{e['event_id']}/accept", headers=collector.headers, json={})
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_role"
