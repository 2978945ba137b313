"""A client's statement of account (estado de cuenta) as a PDF, on the shared report base
(pdf_reports.py): who, at which date, the open invoices with their age, every movement with the
running balance, and the totals."""

from __future__ import annotations

from datetime import datetime, tzinfo

from server.services.pdf_reports import PdfColumn, ReportPDF
from shared.clients import Statement
from shared.formatting import format_date, format_money

_KINDS = {"charge": "Factura", "payment": "Pago", "adjustment": "Ajuste", "reversal": "Reverso"}


def statement_pdf(
    statement: Statement, *, generated_at: datetime, tz: tzinfo, currency: str, locale: str
) -> bytes:
    c = statement.client
    pdf = ReportPDF(
        "Estado de cuenta",
        generated_at=generated_at,
        tz=tz,
        period=f"al {format_date(statement.as_of, locale)}",
        locale=locale,
        currency=currency,
    )
    pdf.add_page()
    pdf.heading(f"{c.name} ({c.code})")

    def money(v: object) -> str:
        return format_money(str(v), currency, locale)

    pdf.key_values(
        [
            ("NIT / CC", c.tax_id or "–"),
            ("Gestor", c.collector or "sin asignar"),
            ("Saldo", money(statement.balance)),
            ("Vencido", money(statement.overdue_balance)),
            ("Saldo a favor sin aplicar", money(statement.unapplied_credit)),
        ]
    )
    pdf.heading("Facturas abiertas", size=11)
    if statement.invoices:
        pdf.table_rows(
            [
                PdfColumn("Factura", 2),
                PdfColumn("Vence", 1.3, "date"),
                PdfColumn("Días vencida", 1, "number"),
                PdfColumn("Valor", 1.6, "money"),
                PdfColumn("Saldo", 1.6, "money"),
            ],
            [
                [i.number, i.due_date, max(0, i.days_past_due), i.amount, i.balance]
                for i in statement.invoices
            ],
            totals=["Total", None, None, None, sum(i.balance for i in statement.invoices)],
        )
    else:
        pdf.paragraph("Sin facturas abiertas.")
    pdf.heading("Movimientos", size=11)
    pdf.table_rows(
        [
            PdfColumn("Fecha", 1.2, "date"),
            PdfColumn("Movimiento", 1.1),
            PdfColumn("Detalle", 3),
            PdfColumn("Valor", 1.5, "money"),
            PdfColumn("Saldo", 1.5, "money"),
        ],
        [
            [
                e.date,
                _KINDS.get(e.kind, e.kind),
                ", ".join(filter(None, [e.reason, " ".join(e.invoice_numbers)])),
                e.amount,
                e.running_balance,
            ]
            for e in statement.entries
        ],
    )
    return pdf.to_bytes()
