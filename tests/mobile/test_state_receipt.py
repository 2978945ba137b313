"""The receipt text: number, client, amount in figures and Spanish words, method, date."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from mobile.state.i18n import Texts
from mobile.state.receipt import ReceiptView, receipt_text

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
