"""`GET /v1/reports/commissions` in JSON, XLSX (payroll) and PDF, over the worked example of
tests/server/commission_world.py (figures computed by hand in its docstring)."""

from __future__ import annotations

import io
from decimal import Decimal as D
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session

from server.api.formats import MEDIA_TYPES, XLSX
from tests.server.commission_world import World, build

NOV = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def world(
    client: TestClient, session: Session, clock: Any, make_user: Any, make_client: Any
) -> World:
    return build(client, session, clock, make_user, make_client)


def _get(client: TestClient, world: World, **params: str) -> Any:
    return client.get(
        "/v1/reports/commissions", params={**NOV, **params}, headers=world.office.headers
    )


def _by_collector(body: dict[str, Any], login: Any) -> dict[str, Any]:
    (found,) = [c for c in body["collectors"] if c["collector"] == login.user.username]
    return found


def test_json(client: TestClient, world: World) -> None:
    r = _get(client, world)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["start"], body["end"], body["rule_version"]) == (
        "2026-11-01",
        "2026-11-30",
        "2026-1",
    )
    assert body["weeks"] == ["2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    ana = _by_collector(body, world.ana)
    assert D(ana["collected"]) == D("883333.00")
    assert D(ana["commission"]) == D("18666.67")
    assert D(ana["bonus"]) == D("100000.00")
    assert D(ana["total"]) == D("118666.67")
    assert [D(line["commission"]) for line in ana["lines"]] == [
        D("10000.00"), D("500.00"), D("8000.00"), D("0.00"), D("166.67"),
    ]  # fmt: skip
    assert ana["lines"][3]["invoice"] is None  # the credit part of the overpayment
    assert [w["effective_contacts"] for w in ana["weeks"]] == [0, 0, 40, 39, 1]
    beto = _by_collector(body, world.beto)
    assert D(beto["commission"]) == D("500.00")
    assert beto["lines"][0]["held"] == "client_reassigned"
    # totals over everyone (only ana and beto have activity)
    assert D(body["totals"]["commission"]) == D("19166.67")
    assert D(body["totals"]["total"]) == D("119166.67")


def test_one_collector_and_errors(client: TestClient, world: World) -> None:
    r = _get(client, world, collector=world.beto.user.username)
    assert r.status_code == 200, r.text
    assert [c["collector"] for c in r.json()["collectors"]] == [world.beto.user.username]
    r = _get(client, world, collector="nadie")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "collector_not_found")
    r = _get(client, world, **{"from": "2026-12-01"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_period")
    r = _get(client, world, format="csv")
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_input")
    # the last days the calendar has: one week (Sunday 26/12/9999), no overflow
    r = _get(client, world, **{"from": "9999-12-20", "to": "9999-12-31"})
    assert r.status_code == 200, r.text
    assert r.json()["weeks"] == ["9999-W51"]
    r = client.get(
        "/v1/reports/commissions", params=NOV, headers=world.ana.headers
    )  # a collector: office only
    assert r.status_code == 403


def _decimal(value: Any) -> D:
    return D(str(value)).quantize(D("0.01"))


def test_xlsx_numbers_equal_the_json(client: TestClient, world: World) -> None:
    body = _get(client, world).json()
    r = _get(client, world, format="xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MEDIA_TYPES[XLSX]
    assert 'filename="comisiones_2026-11.xlsx"' in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["Resumen", "Pagos", "Bonos semanales"]

    summary = book["Resumen"]
    header_row = next(row[0].row for row in summary.iter_rows() if row[0].value == "Gestor")
    headers = [c.value for c in summary[header_row]]
    rows = {
        row[0]: dict(zip(headers, row, strict=True))
        for row in summary.iter_rows(min_row=header_row + 1, values_only=True)
        if row[0] not in (None, "Total")
    }
    assert set(rows) == {c["collector"] for c in body["collectors"]}
    for statement in body["collectors"]:
        row = rows[statement["collector"]]
        assert _decimal(row["Recaudado"]) == D(statement["collected"])
        assert _decimal(row["Comisión"]) == D(statement["commission"])
        assert _decimal(row["Bonificación"]) == D(statement["bonus"])
        assert _decimal(row["Total a pagar"]) == D(statement["total"])
        assert row["Pagos"] == statement["payments"]
    (total_row,) = [
        r for r in summary.iter_rows(min_row=header_row + 1, values_only=True) if r[0] == "Total"
    ]
    assert _decimal(total_row[headers.index("Total a pagar")]) == D(body["totals"]["total"])

    lines = book["Pagos"]
    header_row = next(row[0].row for row in lines.iter_rows() if row[0].value == "Gestor")
    headers = [c.value for c in lines[header_row]]
    found = [
        (r[0], _decimal(r[headers.index("Valor aplicado")]), _decimal(r[headers.index("Comisión")]))
        for r in lines.iter_rows(min_row=header_row + 1, values_only=True)
        if r[0] not in (None, "Total")
    ]
    expected = [
        (c["collector"], D(line["amount"]), D(line["commission"]))
        for c in body["collectors"]
        for line in c["lines"]
    ]
    assert found == expected
    ana_row = next(
        r
        for r in lines.iter_rows(min_row=header_row + 1)
        if r[headers.index("Factura")].value == "FA-1"
    )
    assert ana_row[headers.index("Fecha")].value.date().isoformat() == "2026-11-10"
    assert ana_row[headers.index("Edad al pagar")].value == "31-60 días"

    weeks = book["Bonos semanales"]
    bonuses = [
        _decimal(r[-1])
        for r in weeks.iter_rows(values_only=True)
        if r[0] == world.ana.user.username
    ]
    assert bonuses == [D(w["bonus"]) for w in _by_collector(body, world.ana)["weeks"]]


def test_xlsx_by_accept_header(client: TestClient, world: World) -> None:
    r = client.get(
        "/v1/reports/commissions",
        params={"from": "2026-11-01", "to": "2026-11-15"},
        headers={**world.office.headers, "Accept": MEDIA_TYPES[XLSX]},
    )
    assert r.status_code == 200, r.text
    assert 'filename="comisiones_2026-11-01_2026-11-15.xlsx"' in r.headers["content-disposition"]
    load_workbook(io.BytesIO(r.content))


def test_pdf_shows_each_statement_and_the_totals(client: TestClient, world: World) -> None:
    r = _get(client, world, format="pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    # whitespace normalised: table cells wrap their text over lines
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(r.content)).pages]
    first = pages[0]
    assert "Liquidación de comisiones" in first
    assert "01/11/2026 a 30/11/2026" in first
    assert "$ 119.166,67" in first  # total to pay, everyone
    ana = next(p for p in pages if f"({world.ana.user.username})" in p)
    assert "$ 18.666,67" in ana  # commission
    assert "$ 118.666,67" in ana  # total to pay
    assert "$ 166,67" in ana
    assert "Saldo a favor" in ana
    beto = next(p for p in pages if f"({world.beto.user.username})" in p)
    assert "Cliente de otro gestor" in beto
    assert f"Página 1 de {len(pages)}" in first
