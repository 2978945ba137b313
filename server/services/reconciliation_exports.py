"""A recorded reconciliation as files: PDF (fpdf2, on the shared report base like the statement)
and XLSX (openpyxl, server/services/spreadsheets.py). Both show the two balances, the difference,
the differences found, the notes applied with reason and approver, and where that leaves us."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Final, Literal

from server.services.pdf_reports import PdfColumn, ReportPDF
from server.services.reconciliations import ReconciliationOut
from server.services.spreadsheets import Column, Sheet, workbook_bytes
from shared.formatting import format_date, format_money

RESOLUTIONS: Final = {
    "credit_note": "Nota crédito",
    "adjustment": "Ajuste",
    "client_to_pay": "El cliente paga",
    "client_to_support": "El cliente envía soportes",
    "none": "Sin acción",
}
NOTE_KINDS: Final = {"credit_note": "Nota crédito", "adjustment": "Ajuste"}
# Reason codes of disputes and notes (credit_notes.REASON_CODES) in Spanish.
REASONS: Final = {
    "billing": "Facturación",
    "tariffs": "Tarifas",
    "supports": "Soportes",
    "authorization": "Autorización",
    "coverage": "Cobertura",
    "pertinence": "Pertinencia",
    "return": "Devolución",
    "other": "Otro",
    "reconciliation": "Conciliación",
    "payment_not_recorded": "Pago no registrado",
    "duplicate_charge": "Cobro duplicado",
    "rounding": "Redondeo",
}
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")
STATUSES: Final = {"scheduled": "Programada", "done": "Realizada", "cancelled": "Cancelada"}


def summary(r: ReconciliationOut) -> list[tuple[str, Decimal | None]]:
    """The balances in the order both files (and the page) show them."""
    return [
        ("Saldo según nuestra contabilidad", r.our_balance),
        ("Saldo según el estado del cliente", r.client_balance),
        ("Diferencia (nuestro - cliente)", r.difference),
        ("Notas y ajustes aplicados", r.notes_total),
        ("Nuestro saldo tras las notas", r.adjusted_balance),
        ("Diferencia pendiente", r.remaining_difference),
    ]


def _period(r: ReconciliationOut, locale: str) -> str:
    day = r.as_of or r.scheduled_for
    return f"al {format_date(day, locale)}" if day else ""


def reconciliation_pdf(
    r: ReconciliationOut, *, generated_at: datetime, tz: tzinfo, currency: str, locale: str
) -> bytes:
    pdf = ReportPDF(
        "Conciliación de cartera",
        generated_at=generated_at,
        tz=tz,
        period=_period(r, locale),
        locale=locale,
        currency=currency,
    )
    pdf.add_page()
    pdf.heading(f"{r.client.name} ({r.client.code})")

    def money(v: Decimal | None) -> str:
        return "–" if v is None else format_money(v, currency, locale)

    pdf.key_values(
        [
            ("NIT / CC", r.client.tax_id or "–"),
            ("Estado", STATUSES.get(r.status, r.status)),
            ("Soporte del cliente", r.statement_ref or "–"),
            ("Registrada por", r.completed_by or "–"),
            *((label, money(value)) for label, value in summary(r)),
        ],
        label_width=75,
    )
    pdf.heading("Diferencias encontradas", size=11)
    if r.items:
        pdf.table_rows(
            [
                PdfColumn("Factura", 1.3),
                PdfColumn("Detalle", 2.6),
                PdfColumn("Nuestro", 1.4, "money"),
                PdfColumn("Cliente", 1.4, "money"),
                PdfColumn("Resolución", 1.6),
            ],
            [
                [
                    i.invoice_number or "–",
                    i.description,
                    i.our_amount,
                    i.their_amount,
                    RESOLUTIONS.get(i.resolution, i.resolution),
                ]
                for i in r.items
            ],
        )
    else:
        pdf.paragraph("Sin diferencias registradas.")
    pdf.heading("Notas crédito y ajustes aplicados", size=11)
    if r.credit_notes:
        pdf.table_rows(
            [
                PdfColumn("Tipo", 1.2),
                PdfColumn("Factura", 1.2),
                PdfColumn("Motivo", 2.8),
                PdfColumn("Aprobó", 1.2),
                PdfColumn("Valor", 1.4, "money"),
            ],
            [
                [
                    NOTE_KINDS.get(n.kind, n.kind),
                    n.invoice_number or "–",
                    f"{REASONS.get(n.reason_code, n.reason_code)}: {n.reason}",
                    n.approved_by,
                    n.amount,
                ]
                for n in r.credit_notes
            ],
            totals=["Total", None, None, None, r.notes_total],
        )
    else:
        pdf.paragraph("Sin notas aplicadas.")
    if r.notes:
        pdf.heading("Observaciones", size=11)
        pdf.paragraph(r.notes)
    return pdf.to_bytes()


def reconciliation_xlsx(r: ReconciliationOut, *, locale: str) -> bytes:
    title = f"Conciliación {r.client.name} ({r.client.code})"
    subtitle = _period(r, locale)
    return workbook_bytes(
        [
            Sheet(
                name="Resumen",
                title=title,
                subtitle=subtitle,
                columns=[Column("Concepto"), Column("Valor", "money")],
                rows=[[label, value] for label, value in summary(r)],
                notes=[f"Soporte del cliente: {r.statement_ref or '–'}", r.notes],
            ),
            Sheet(
                name="Diferencias",
                title=title,
                subtitle=subtitle,
                columns=[
                    Column("Factura"),
                    Column("Detalle"),
                    Column("Nuestro", "money", total=True),
                    Column("Cliente", "money", total=True),
                    Column("Resolución"),
                ],
                rows=[
                    [
                        i.invoice_number,
                        i.description,
                        i.our_amount,
                        i.their_amount,
                        RESOLUTIONS.get(i.resolution, i.resolution),
                    ]
                    for i in r.items
                ],
                totals_label="Total",
            ),
            Sheet(
                name="Notas aplicadas",
                title=title,
                subtitle=subtitle,
                columns=[
                    Column("Tipo"),
                    Column("Factura"),
                    Column("Concepto"),
                    Column("Motivo"),
                    Column("Aprobó"),
                    Column("Fecha", "date"),
                    Column("Valor", "money", total=True),
                ],
                rows=[
                    [
                        NOTE_KINDS.get(n.kind, n.kind),
                        n.invoice_number,
                        REASONS.get(n.reason_code, n.reason_code),
                        n.reason,
                        n.approved_by,
                        n.effective_date,
                        n.amount,
                    ]
                    for n in r.credit_notes
                ],
                totals_label="Total",
            ),
        ]
    )


def export_file(
    r: ReconciliationOut,
    kind: Literal["pdf", "xlsx"],
    *,
    generated_at: datetime,
    tz: tzinfo,
    currency: str,
    locale: str,
) -> tuple[bytes, str]:
    """The file and its name without extension: `conciliacion_<code>_<date>`."""
    day = r.as_of or r.scheduled_for
    stem = "_".join(
        ["conciliacion", _UNSAFE.sub("_", r.client.code), day.isoformat() if day else "sin_fecha"]
    )
    if kind == "pdf":
        content = reconciliation_pdf(
            r, generated_at=generated_at, tz=tz, currency=currency, locale=locale
        )
    else:
        content = reconciliation_xlsx(r, locale=locale)
    return content, stem
