"""Portfolio segmentation by client type, agreement, aging bucket and status: a small portfolio
worked by hand. The clock reads 2026-11-20 12:00 (Bogotá).

S1 grupo            ana   due 2026-10-01 1 000 000 (50 days: 31_60), glosa open 100 000,
                          active agreement 10-15 + 11-15 of 500 000, nothing paid -> broken
S2 particular       ana   due 2026-12-15   200 000 (not due: al_dia), agreement proposed
S3 particular       beto  due 2026-05-01   300 000 (203 days: 181_360), in cobro jurídico
S4 entidad_externa  beto  nothing owed (sin_saldo), closed
S5 convenio_externo beto  due 2026-11-10   100 000 (10 days: 1_30), agreement due 12-01: active
total 5 clients, balance 1 600 000, overdue 1 400 000, disputed 100 000
"""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.db.models import (
    AgreementInstallment,
    Client,
    Dispute,
    Invoice,
    LawFirm,
    LegalReferral,
    PaymentAgreement,
)
from server.services import ledger
from tests.server.conftest import FakeClock

BOGOTA = ZoneInfo("America/Bogota")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=BOGOTA)
D = Decimal


def _invoice(session: Session, c: Client, due: date, amount: int) -> None:
    inv = Invoice(
        client_id=c.id,
        number=f"{c.code}-1",
        issue_date=due - timedelta(days=30),
        due_date=due,
        amount=D(amount),
    )
    ledger.post_charge(session, inv, source="import")


def _agreement(session: Session, c: Client, status: str, by: uuid.UUID, *dues: date) -> None:
    agreement = PaymentAgreement(
        client_id=c.id,
        origin="office",
        status=status,
        total=D(500_000) * len(dues),
        proposed_by=by,
        proposed_at=datetime(2026, 10, 1, 12, tzinfo=BOGOTA),
    )
    session.add(agreement)
    session.flush()
    for seq, due in enumerate(dues, start=1):
        session.add(
            AgreementInstallment(
                agreement_id=agreement.id, seq=seq, due_date=due, amount=D(500_000)
            )
        )


@pytest.fixture
def world(session: Session, make_user: Any, make_client: Any, clock: FakeClock) -> dict[str, Any]:
    clock.now = NOW
    ana, beto = make_user("collector", "ana"), make_user("collector", "beto")
    sup = make_user("supervisor", "sonia")
    by = sup.user.id
    s1 = make_client("S1", ana.user, segment="grupo")
    s2 = make_client("S2", ana.user, segment="particular")
    s3 = make_client("S3", beto.user, segment="particular")
    make_client("S4", beto.user, segment="entidad_externa", status="closed")
    s5 = make_client("S5", beto.user, segment="convenio_externo")
    _invoice(session, s1, date(2026, 10, 1), 1_000_000)
    _invoice(session, s2, date(2026, 12, 15), 200_000)
    _invoice(session, s3, date(2026, 5, 1), 300_000)
    _invoice(session, s5, date(2026, 11, 10), 100_000)
    _agreement(session, s1, "active", by, date(2026, 10, 15), date(2026, 11, 15))
    _agreement(session, s2, "proposed", by, date(2026, 12, 20))
    _agreement(session, s5, "active", by, date(2026, 12, 1))
    _agreement(session, s5, "rejected", by, date(2026, 10, 2))  # not live: ignored
    session.add(
        Dispute(
            client_id=s1.id, invoice_number="S1-1", amount=D(100_000), reason_code="tariffs",
            origin="office", status="open", opened_by=by, opened_at=NOW,
        )
    )  # fmt: skip
    firm = LawFirm(name="Abogados S", active=True)
    session.add(firm)
    session.flush()
    session.add(
        LegalReferral(
            client_id=s3.id, law_firm_id=firm.id, invoice_numbers=[], amount=D(300_000),
            reason="mora", status="in_progress", referred_by=by, referred_at=NOW,
        )
    )  # fmt: skip
    session.commit()
    return {"h": sup.headers}


def _get(client: TestClient, w: dict[str, Any], by: str, **params: str) -> dict[str, Any]:
    r = client.get("/v1/reports/segmentation", params={"by": by, **params}, headers=w["h"])
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _groups(body: dict[str, Any]) -> dict[str, tuple[int, str, str, str]]:
    return {
        g["key"]: (g["clients"], g["balance"], g["overdue"], g["disputed"]) for g in body["groups"]
    }


def test_by_segment(client: TestClient, world: dict[str, Any]) -> None:
    body = _get(client, world, "segment")
    assert _groups(body) == {
        "grupo": (1, "1000000.00", "1000000.00", "100000.00"),
        "convenio_externo": (1, "100000.00", "100000.00", "0.00"),
        "entidad_externa": (1, "0.00", "0.00", "0.00"),
        "particular": (2, "500000.00", "300000.00", "0.00"),
    }
    total = body["total"]
    assert (total["clients"], total["balance"], total["overdue"], total["disputed"]) == (
        5,
        "1600000.00",
        "1400000.00",
        "100000.00",
    )


def test_by_agreement_broken_from_the_installments(
    client: TestClient, world: dict[str, Any]
) -> None:
    counts = {k: v[0] for k, v in _groups(_get(client, world, "agreement")).items()}
    assert counts == {"active": 1, "broken": 1, "proposed": 1, "none": 2}
    groups = _groups(_get(client, world, "agreement"))
    assert groups["broken"][1] == "1000000.00" and groups["active"][1] == "100000.00"


def test_by_bucket_of_the_oldest_invoice_owing(client: TestClient, world: dict[str, Any]) -> None:
    counts = {k: v[0] for k, v in _groups(_get(client, world, "bucket")).items()}
    assert counts == {
        "al_dia": 1,
        "1_30": 1,
        "31_60": 1,
        "61_90": 0,
        "91_180": 0,
        "181_360": 1,
        "mas_360": 0,
        "sin_saldo": 1,
    }


def test_by_status(client: TestClient, world: dict[str, Any]) -> None:
    groups = _groups(_get(client, world, "status"))
    assert {k: v[0] for k, v in groups.items()} == {"active": 3, "legal": 1, "closed": 1}
    assert groups["legal"][1] == "300000.00"


def test_a_collectors_portfolio(client: TestClient, world: dict[str, Any]) -> None:
    body = _get(client, world, "segment", collector="ana")
    assert (body["collector"], body["total"]["clients"], body["total"]["balance"]) == (
        "ana",
        2,
        "1200000.00",
    )
    r = client.get("/v1/reports/segmentation", params={"collector": "nadie"}, headers=world["h"])
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_collector")
    bad = client.get("/v1/reports/segmentation", params={"by": "color"}, headers=world["h"])
    assert bad.status_code == 422


def test_the_xlsx_holds_the_json_numbers(client: TestClient, world: dict[str, Any]) -> None:
    body = _get(client, world, "segment")
    r = client.get(
        "/v1/reports/segmentation", params={"by": "segment", "format": "xlsx"}, headers=world["h"]
    )
    assert r.status_code == 200
    assert "segmentacion_segment_2026-11-20.xlsx" in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = [row for row in sheet.iter_rows(values_only=True) if row and row[0] is not None]
    by_label = {row[0]: row[1:5] for row in rows}
    for g in body["groups"]:
        assert by_label[g["label"]] == (
            g["clients"],
            D(g["balance"]),
            D(g["overdue"]),
            D(g["disputed"]),
        )
    assert by_label["Total"][:2] == (5, D("1600000.00"))
