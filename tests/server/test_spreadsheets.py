"""XLSX exports: typed cells, es-CO formats, frozen header, totals (read back with openpyxl)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from server.services.spreadsheets import (
    DATE_FORMAT,
    MONEY_CENTS_FORMAT,
    MONEY_FORMAT,
    Column,
    Sheet,
    column_totals,
    workbook_bytes,
)

COLUMNS = (
    Column("Cliente"),
    Column("Fecha", "date"),
    Column("Valor", "money", total=True),
    Column("%", "percent"),
    Column("Visitas", "int", total=True),
)


def _sheet(**kw: object) -> Sheet:
    rows = [
        ("Droguería La Ñapa", date(2026, 11, 3), Decimal("1234567.00"), Decimal("0.5"), 3),
        ("Óptica Sur", date(2026, 11, 30), Decimal("250000.50"), Decimal("2"), 0),
    ]
    base: dict[str, object] = {
        "name": "Pagos",
        "columns": COLUMNS,
        "rows": rows,
        "title": "Comisiones",
        "subtitle": "01/11/2026 a 30/11/2026",
        "totals_label": "Total",
    }
    base.update(kw)
    return Sheet(**base)  # type: ignore[arg-type]


def test_cells_are_typed_and_formatted() -> None:
    book = load_workbook(io.BytesIO(workbook_bytes([_sheet()])))
    ws = book["Pagos"]
    assert ws["A1"].value == "Comisiones"
    assert ws["A2"].value == "01/11/2026 a 30/11/2026"
    # title, subtitle, blank, header on row 4, data from row 5, frozen under the header
    assert [c.value for c in ws[4]] == ["Cliente", "Fecha", "Valor", "%", "Visitas"]
    assert ws.freeze_panes == "A5"
    assert ws["A5"].value == "Droguería La Ñapa"
    assert ws["B5"].value.date() == date(2026, 11, 3)  # a real date, not text
    assert ws["B5"].number_format == DATE_FORMAT
    assert Decimal(str(ws["C5"].value)) == Decimal("1234567")
    assert ws["C6"].number_format == MONEY_CENTS_FORMAT  # 250.000,50 has cents
    assert Decimal(str(ws["D5"].value)) == Decimal("0.5")
    # totals: 1.234.567 + 250.000,50 = 1.484.567,50; visits 3 + 0 = 3
    assert ws["A7"].value == "Total"
    assert Decimal(str(ws["C7"].value)) == Decimal("1484567.50")
    assert ws["E7"].value == 3
    assert ws["D7"].value is None


def test_whole_pesos_show_no_cents_and_no_title_puts_header_first() -> None:
    spec = Sheet(
        name="Resumen",
        columns=(Column("Gestor"), Column("Comisión", "money", total=True)),
        rows=[("ana", Decimal("1500.00")), ("beto", 20)],
    )
    ws = load_workbook(io.BytesIO(workbook_bytes([spec])))["Resumen"]
    assert ws["A1"].value == "Gestor"
    assert ws.freeze_panes == "A2"
    assert ws["B2"].number_format == MONEY_FORMAT
    assert column_totals(spec) == [None, Decimal("1520.00")]


def test_sheet_names_are_made_valid_and_unique() -> None:
    sheets = [_sheet(name="Gestor: ana/sur"), _sheet(name="Gestor: ana/sur"), _sheet(name="x" * 40)]
    names = load_workbook(io.BytesIO(workbook_bytes(sheets))).sheetnames
    assert names == ["Gestor- ana-sur", "Gestor- ana-sur (2)", "x" * 31]


def test_rows_must_match_the_header() -> None:
    with pytest.raises(ValueError, match="2 cells"):
        workbook_bytes([Sheet(name="a", columns=COLUMNS, rows=[("x", None)])])
    with pytest.raises(ValueError):
        workbook_bytes([])
