"""The receipt text: number, client, amount in figures and Spanish words, method, date."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from pypdf import PdfReader

from mobile.state.i18n import Texts
from mobile.state.receipt import ReceiptView, receipt_lines, receipt_text
from mobile.state.receipt_pdf import receipt_pdf

AT = datetime(2026, 11, 23, 15, 4, tzinfo=timezone(timedelta(hours=-5)))


def test_spanish_receipt_worked_example() -> None:
    receipt = ReceiptView(
        receipt_no="K7Q-000412",
        client_name="Tienda La Esquina",
        client_code="C00017",
        amount=Decimal("1250000.50"),
        method="cash",
        reference="",
        at=AT,
        collector="gestor1",
    )
    assert receipt_text(receipt, Texts("es"), "America/Bogota").splitlines() == [
        "RECAUDO",
        "Recibo N.º K7Q-000412",
        "Cliente: Tienda La Esquina (C00017)",
        "Valor: $ 1.250.000,50",
        "Son: Un millón doscientos cincuenta mil pesos con cincuenta centavos",
        "Medio: Efectivo",
        "Fecha: 23/11/2026 15:04",
        "Gestor: gestor1",
    ]


def test_english_receipt_keeps_the_spanish_words_and_shows_reference_and_void() -> None:
    receipt = ReceiptView(
        receipt_no="K7Q-000413",
        client_name="Ana Peña",
        client_code="C1",
        amount=Decimal("21000"),
        method="transfer",
        reference="NEQUI 5521",
        at=AT,
        collector="gestor1",
        voided=True,
    )
    text = receipt_text(receipt, Texts("en"), "America/Bogota")
    assert "Amount: $21,000" in text
    assert "In words (Spanish): Veintiún mil pesos" in text
    assert "Method: Transfer" in text
    assert "Reference: NEQUI 5521" in text
    assert text.endswith("VOIDED")


def test_receipt_pdf_opens_and_shows_number_amount_and_words() -> None:
    receipt = ReceiptView(
        receipt_no="K7Q-000412",
        client_name="Peña & Cía (sucursal)",
        client_code="C00017",
        amount=Decimal("1250000.50"),
        method="deposit",
        reference="",
        at=AT,
        collector="gestor1",
    )
    data = receipt_pdf(receipt_lines(receipt, Texts("es"), "America/Bogota"), title="K7Q-000412")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    shown = reader.pages[0].extract_text()
    assert "Recibo N.º K7Q-000412" in shown
    assert "Valor: $ 1.250.000,50" in shown
    assert "Cliente: Peña & Cía (sucursal) (C00017)" in shown
    assert "Medio: Consignación" in shown
    assert "cincuenta centavos" in shown
    assert reader.metadata is not None and reader.metadata.title == "K7Q-000412"
