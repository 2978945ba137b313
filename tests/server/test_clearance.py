"""Paz y salvo: issued only at a zero (or credit) balance and no open glosa, a code derived from
the signing key, its PDF, and the public check. The clock reads 2026-11-20 12:00 (Bogotá).

C1  invoice C1-1 issued 2026-09-01 for 300 000, paid 2026-11-10: owed 300 000 until the 9th,
    nothing from the 10th on.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.models import AuditLog, ClearanceCertificate, Client, Dispute, Invoice
from server.services import ledger
from server.services.clearance import VerifyLimiter, certificate_code, normalize_code
from tests.server.conftest import TEST_SIGNING_KEY, FakeClock

BOGOTA = ZoneInfo("America/Bogota")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=BOGOTA)
CODE = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$")


@pytest.fixture
def world(
    client: TestClient, session: Session, make_user: Any, make_client: Any, clock: FakeClock
) -> dict[str, Any]:
    clock.now = NOW
    sup = make_user("supervisor", "sonia")
    c1 = make_client("C1", name="Óptica Núñez & Cía", tax_id="900123456-7")
    inv = Invoice(
        client_id=c1.id,
        number="C1-1",
        issue_date=date(2026, 9, 1),
        due_date=date(2026, 10, 1),
        amount=Decimal(300_000),
    )
    ledger.post_charge(session, inv, source="import")
    ledger.post_payment(
        session,
        client_id=c1.id,
        amount=Decimal(300_000),
        effective_date=date(2026, 11, 10),
        source="manual",
    )
    session.commit()
    return {"h": sup.headers, "c1": c1, "sup": sup}


def _issue(client: TestClient, w: dict[str, Any], c: Client, **body: Any) -> Any:
    return client.post(f"/v1/clients/{c.id}/clearance", json=body or None, headers=w["h"])


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def test_issued_at_zero_balance_with_a_code_from_the_key(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    r = _issue(client, world, world["c1"])
    assert r.status_code == 201, r.text
    cert = r.json()
    assert (cert["as_of"], cert["balance"], cert["tax_id"]) == ("2026-11-20", "0.00", "900123456-7")
    assert CODE.match(cert["code"])
    assert cert["code"] == certificate_code(
        TEST_SIGNING_KEY, uuid.UUID(cert["id"]), "900123456-7", date(2026, 11, 20)
    )
    assert cert["verify_path"] == f"/verificar/{cert['code']}"
    stored = session.get(ClearanceCertificate, uuid.UUID(cert["id"]))
    assert stored is not None and stored.code == cert["code"]
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "clearance.issue"))
    assert audit is not None and audit.entity_id == cert["id"]
    again = client.get(f"/v1/clearances/{cert['id']}", headers=world["h"]).json()
    assert again["code"] == cert["code"]


def test_refused_while_something_was_owed(client: TestClient, world: dict[str, Any]) -> None:
    r = _issue(client, world, world["c1"], as_of="2026-11-09")
    assert r.status_code == 409
    error = r.json()["error"]
    assert (error["code"], error["details"]["balance"]) == ("balance_not_zero", "300000.00")
    assert _issue(client, world, world["c1"], as_of="2026-11-10").status_code == 201
    future = _issue(client, world, world["c1"], as_of="2026-11-21")
    assert (future.status_code, future.json()["error"]["code"]) == (422, "as_of_in_future")


def test_refused_with_an_open_dispute(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    session.add(
        Dispute(
            client_id=world["c1"].id,
            invoice_number="C1-1",
            kind="dispute",
            amount=Decimal(50_000),
            reason_code="tariffs",
            origin="office",
            status="open",
            opened_by=world["sup"].user.id,
            opened_at=NOW,
        )
    )
    session.commit()
    r = _issue(client, world, world["c1"])
    assert (r.status_code, r.json()["error"]["code"]) == (409, "open_dispute")
    assert r.json()["error"]["details"]["amount"] == "50000.00"


def test_a_credit_balance_is_clear_too(
    client: TestClient, session: Session, world: dict[str, Any]
) -> None:
    ledger.post_payment(
        session,
        client_id=world["c1"].id,
        amount=Decimal(20_000),
        effective_date=date(2026, 11, 15),
        source="manual",
    )
    session.commit()
    r = _issue(client, world, world["c1"])
    assert (r.status_code, r.json()["balance"]) == (201, "-20000.00")


def test_the_pdf_says_it_with_the_code_and_the_link(
    client: TestClient, world: dict[str, Any]
) -> None:
    cert = _issue(client, world, world["c1"], as_of="2026-11-12").json()
    for url in (f"/v1/clearances/{cert['id']}.pdf", f"/v1/clearances/{cert['id']}?format=pdf"):
        r = client.get(url, headers=world["h"])
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        text = " ".join(_pdf_text(r.content).split())
        assert "se encuentra a paz y salvo por todo concepto al 12/11/2026" in text
        assert "Óptica Núñez & Cía" in text and "900123456-7" in text
        assert cert["code"] in text
        assert f"http://testserver/verificar/{cert['code']}" in text


def test_public_verification(client: TestClient, session: Session, world: dict[str, Any]) -> None:
    cert = _issue(client, world, world["c1"]).json()
    ok = client.get(f"/v1/clearances/verify/{cert['code']}").json()  # no login
    assert (ok["valid"], ok["client_name"], ok["tax_id"], ok["as_of"]) == (
        True,
        "Óptica Núñez & Cía",
        "900123456-7",
        "2026-11-20",
    )
    typed = cert["code"].replace("-", " ").lower()
    assert client.get(f"/v1/clearances/verify/{typed}").json()["valid"] is True
    assert client.get("/v1/clearances/verify/AAAA-BBBB-CCCC").json() == {
        "valid": False,
        "code": "AAAA-BBBB-CCCC",
        "client_name": None,
        "tax_id": None,
        "as_of": None,
        "issued_at": None,
    }
    page = client.get(f"/verificar/{cert['code']}")
    assert page.status_code == 200 and "Válido" in page.text and "900123456-7" in page.text
    assert "20/11/2026" in page.text
    bad = client.get("/verificar/no-es-un-codigo")
    assert bad.status_code == 404 and "No válido" in bad.text
    # A row edited by hand (another date) no longer matches its HMAC.
    session.execute(
        update(ClearanceCertificate)
        .where(ClearanceCertificate.id == uuid.UUID(cert["id"]))
        .values(as_of=date(2026, 11, 1))
    )
    session.commit()
    assert client.get(f"/v1/clearances/verify/{cert['code']}").json()["valid"] is False


def test_codes_are_read_forgivingly() -> None:
    assert normalize_code(" abcd-efgh-2345 ") == "ABCD-EFGH-2345"
    assert normalize_code("A0CD1EFG8234") == "AOCD-IEFG-B234"  # 0, 1, 8 read as O, I, B
    assert normalize_code("ABCD-EFGH-234") is None
    assert normalize_code("x" * 100) is None


def test_verification_is_rate_limited(app: FastAPI, client: TestClient) -> None:
    app.state.verify_limiter = VerifyLimiter(limit=2, window_s=3600)
    for _ in range(2):
        assert client.get("/v1/clearances/verify/AAAA-BBBB-CCCC").status_code == 200
    r = client.get("/v1/clearances/verify/AAAA-BBBB-CCCC")
    assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_verifications")
    assert int(r.headers["retry-after"]) >= 1


def test_office_only(client: TestClient, world: dict[str, Any], make_user: Any) -> None:
    collector = make_user("collector")
    r = client.post(f"/v1/clients/{world['c1'].id}/clearance", headers=collector.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "insufficient_role")
