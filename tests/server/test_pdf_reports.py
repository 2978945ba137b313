"""The printable report base: header, Spanish text, right-aligned money, page numbers, chart."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from server.services import pdf_reports
from server.services.pdf_reports import PdfColumn, ReportPDF
from shared.formatting import format_money

# 21:30 UTC is 16:30 in Bogotá (UTC-5)
GENERATED = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)


def _report() -> bytes:
    pdf = ReportPDF(
        "Comisiones de gestores",
        period="01/11/2026 a 30/11/2026",
        generated_at=GENERATED,
        tz="America/Bogota",
    )
    pdf.add_page()
    pdf.heading("Ana María Peña")
    pdf.key_values([("Recaudado", format_money(Decimal("1234567.50")))])
    columns = (
        PdfColumn("Cliente", 3),
        PdfColumn("Fecha", 1.5, "date"),
        PdfColumn("Valor", 2, "money"),
        PdfColumn("%", 1, "percent"),
    )
    rows = [
        (f"Droguería Ñandú {i}", date(2026, 11, 3), Decimal("1000.00") * i, Decimal("0.5"))
        for i in range(1, 121)
    ]
    pdf.table_rows(columns, rows, totals=("Total", None, Decimal("7260000.00"), None))
    pdf.bar_chart(
        "Recaudo por semana",
        [("S45", Decimal(10)), ("S46", Decimal(25)), ("S47", Decimal(0))],
        value_text=format_money,
    )
    return pdf.to_bytes()


def _text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_report_pages_show_header_money_and_page_numbers() -> None:
    pages = _text(_report())
    assert len(pages) >= 3  # 120 rows do not fit on two A4 pages
    total = len(pages)
    for number, text in enumerate(pages, start=1):
        assert "Comisiones de gestores" in text
        assert "Periodo: 01/11/2026 a 30/11/2026" in text
        assert "Generado: 01/12/2026 16:30" in text
        assert f"Página {number} de {total}" in text
    assert "Ana María Peña" in pages[0]
    assert "Droguería Ñandú 1" in pages[0]
    assert "$ 1.234.567,50" in pages[0]
    assert "$ 120.000" in "".join(pages)  # row 120: 1.000 × 120
    assert "$ 7.260.000" in "".join(pages)
    assert "Recaudo por semana" in pages[-1]
    assert "$ 25" in pages[-1]


def test_core_font_fallback_keeps_spanish(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_reports, "FONT_DIRS", ())
    pdf = ReportPDF("Informe de gestión", generated_at=GENERATED, tz="America/Bogota")
    assert not pdf.unicode
    pdf.add_page()
    pdf.paragraph("Señal débil — sin conexión")  # the dash is outside Latin-1
    text = _text(pdf.to_bytes())[0]
    assert "Informe de gestión" in text
    assert "Señal débil ? sin conexión" in text
    assert "Página 1 de 1" in text
