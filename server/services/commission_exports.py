"""The commission report as files: the payroll workbook (XLSX) and the printable statements (PDF).
Both show exactly the figures of the JSON (`CommissionReport`), in Spanish.

Workbook: "Resumen" (one row per collector: payments, collected, reversals, commission, bonus,
total to pay, with a totals row), "Pagos" (every line behind the commissions) and "Bonos
semanales" (every week of the period per collector with its effective contacts).
PDF: a first page with the period's summary and a chart of each collector's total, then one
statement per collector starting on its own page (summary, lines, weeks).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Final

from server.services.commission_statements import CommissionReport, Statement, StatementLine
from server.services.pdf_reports import PdfColumn, ReportPDF
from server.services.spreadsheets import Column, Sheet, Value, workbook_bytes
from shared.formatting import format_date, format_money

HELD_REASONS: Final = {
    "client_closed": "Cliente cerrado",
    "client_reassigned": "Cliente de otro gestor",
    "client_unknown": "Cliente desconocido (suspenso)",
    "amount_implausible": "Valor inusual (suspenso)",
}
_CHART_BARS: Final = 24


def bucket_label(bucket: str | None) -> str:
    """`31_60` -> "31-60 días", `al_dia` -> "Al día", `mas_180` -> "Más de 180 días"."""
    if bucket is None:
        return "Saldo a favor"
    if bucket == "al_dia":
        return "Al día"
    low, _, high = bucket.partition("_")
    if low == "mas":
        return f"Más de {high} días"
    return f"{low}-{high} días"


def period_text(start: date, end: date) -> str:
    return f"{format_date(start)} a {format_date(end)}"


def file_stem(report: CommissionReport, collector: str | None = None) -> str:
    """`comisiones_2026-11` for a calendar month, else `comisiones_2026-11-01_2026-11-15`; the
    collector's username after `comisiones_` when the report is one collector's."""
    start, end = report.start, report.end
    month_end = _month_end(start)
    if start.day == 1 and end == month_end:
        period = f"{start:%Y-%m}"
    else:
        period = f"{start.isoformat()}_{end.isoformat()}"
    who = f"_{collector}" if collector else ""
    return f"comisiones{who}_{period}"


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _rules_text(report: CommissionReport) -> str:
    return (
        f"Reglas {report.rule_version}; bono semanal de {format_money(report.bonus_amount)} "
        f"con {report.bonus_target} contactos efectivos (semanas ISO cuyo domingo cae en el "
        "periodo)"
    )


def _held(line: StatementLine) -> str:
    return HELD_REASONS.get(line.held, line.held) if line.held else ""


def _line_cells(s: Statement, line: StatementLine) -> list[Value]:
    return [
        s.collector,
        line.day,
        "Pago" if line.kind == "payment" else "Anulación",
        line.receipt,
        line.client_code,
        line.client_name,
        line.invoice or "Saldo a favor",
        line.due_date,
        line.paid_on,
        bucket_label(line.bucket),
        line.percent,
        line.amount,
        line.commission,
        _held(line),
    ]


def workbook(report: CommissionReport) -> bytes:
    """The payroll export."""
    subtitle = f"Periodo {period_text(report.start, report.end)}. {_rules_text(report)}."
    summary = Sheet(
        name="Resumen",
        title="Comisiones de gestores",
        subtitle=subtitle,
        columns=(
            Column("Gestor"),
            Column("Nombre"),
            Column("Pagos", "int", total=True),
            Column("Recaudado", "money", total=True),
            Column("Anulaciones", "int", total=True),
            Column("Anulado", "money", total=True),
            Column("Comisión", "money", total=True),
            Column("Bonificación", "money", total=True),
            Column("Total a pagar", "money", total=True),
        ),
        rows=[
            (
                s.collector,
                s.full_name,
                s.payments,
                s.collected,
                s.reversals,
                s.reversed,
                s.commission,
                s.bonus,
                s.total,
            )
            for s in report.collectors
        ],
        totals_label="Total",
    )
    lines = Sheet(
        name="Pagos",
        title="Pagos y anulaciones que cuentan",
        subtitle=subtitle,
        columns=(
            Column("Gestor"),
            Column("Fecha", "date"),
            Column("Tipo"),
            Column("Recibo"),
            Column("Código cliente"),
            Column("Cliente"),
            Column("Factura"),
            Column("Vence", "date"),
            Column("Fecha del pago", "date"),
            Column("Edad al pagar"),
            Column("%", "percent"),
            Column("Valor aplicado", "money", total=True),
            Column("Comisión", "money", total=True),
            Column("Revisión"),
        ),
        rows=[_line_cells(s, line) for s in report.collectors for line in s.lines],
        totals_label="Total",
    )
    weeks = Sheet(
        name="Bonos semanales",
        title="Bonificación semanal por contactos efectivos",
        subtitle=subtitle,
        columns=(
            Column("Gestor"),
            Column("Semana"),
            Column("Lunes", "date"),
            Column("Domingo", "date"),
            Column("Contactos efectivos", "int"),
            Column("Meta", "int"),
            Column("Bono", "money", total=True),
        ),
        rows=[
            (s.collector, w.week, w.monday, w.sunday, w.effective_contacts, w.target, w.bonus)
            for s in report.collectors
            for w in s.weeks
        ],
        totals_label="Total",
    )
    return workbook_bytes([summary, lines, weeks])


_LINE_COLUMNS: Final = (
    PdfColumn("Fecha", 1.6, "date"),
    PdfColumn("Recibo", 1.7),
    PdfColumn("Cliente", 3.0),
    PdfColumn("Factura", 1.7),
    PdfColumn("Edad", 1.5),
    PdfColumn("%", 1.1, "percent"),
    PdfColumn("Valor", 2.0, "money"),
    PdfColumn("Comisión", 1.7, "money"),
)
_WEEK_COLUMNS: Final = (
    PdfColumn("Semana", 1.5),
    PdfColumn("Del", 1.5, "date"),
    PdfColumn("Al", 1.5, "date"),
    PdfColumn("Contactos efectivos", 2, "number"),
    PdfColumn("Meta", 1, "number"),
    PdfColumn("Bono", 2, "money"),
)


def pdf(report: CommissionReport, *, generated_at: datetime, tz: tzinfo | str) -> bytes:
    """One statement per collector, after a summary page."""
    doc = ReportPDF(
        "Liquidación de comisiones",
        period=period_text(report.start, report.end),
        generated_at=generated_at,
        tz=tz,
        currency=report.currency,
    )
    doc.add_page()
    doc.paragraph(_rules_text(report) + ".")
    doc.key_values(
        [
            ("Gestores", str(len(report.collectors))),
            ("Recaudado", format_money(report.totals.collected)),
            ("Anulado", format_money(report.totals.reversed)),
            ("Comisiones", format_money(report.totals.commission)),
            ("Bonificaciones", format_money(report.totals.bonus)),
            ("Total a pagar", format_money(report.totals.total)),
        ]
    )
    ranked = sorted(report.collectors, key=lambda s: s.total, reverse=True)[:_CHART_BARS]
    if any(s.total > 0 for s in ranked):
        doc.bar_chart(
            "Total a pagar por gestor"
            + (f" (los {_CHART_BARS} mayores)" if len(report.collectors) > _CHART_BARS else ""),
            [(s.collector, s.total) for s in ranked],
            value_text=format_money,
        )
    for statement in report.collectors:
        doc.add_page()
        _statement_pages(doc, statement)
    return doc.to_bytes()


def _statement_pages(doc: ReportPDF, s: Statement) -> None:
    doc.heading(f"{s.full_name or s.collector} ({s.collector})", size=13)
    doc.key_values(
        [
            ("Pagos", f"{s.payments} por {format_money(s.collected)}"),
            ("Anulaciones", f"{s.reversals} por {format_money(s.reversed)}"),
            ("Comisión", format_money(s.commission)),
            ("Bonificación", format_money(s.bonus)),
            ("Total a pagar", format_money(s.total)),
        ],
        label_width=40,
    )
    if s.lines:
        doc.heading("Pagos y anulaciones", size=11)
        rows = [
            (
                line.day,
                line.receipt + (" (anulación)" if line.kind == "reversal" else ""),
                f"{line.client_code} {line.client_name}",
                (line.invoice or "Saldo a favor") + (f" [{_held(line)}]" if line.held else ""),
                bucket_label(line.bucket),
                line.percent,
                line.amount,
                line.commission,
            )
            for line in s.lines
        ]
        applied = sum((line.amount for line in s.lines), Decimal(0))
        doc.table_rows(
            _LINE_COLUMNS,
            rows,
            totals=("Total", None, None, None, None, None, applied, s.commission),
        )
    else:
        doc.paragraph("Sin pagos ni anulaciones en el periodo.")
    if s.weeks:
        doc.heading("Bonificación semanal", size=11)
        doc.table_rows(
            _WEEK_COLUMNS,
            [
                (w.week, w.monday, w.sunday, w.effective_contacts, w.target, w.bonus)
                for w in s.weeks
            ],
            totals=("Total", None, None, None, None, s.bonus),
        )
