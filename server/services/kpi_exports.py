"""Files of the KPI report (XLSX) and of the weekly management report (XLSX with a bar chart, PDF
with a bar chart), built on the shared export helpers (server/services/spreadsheets.py and
server/services/pdf_reports.py). Every cell holds the figure of the JSON answer, unrounded."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Final

from openpyxl import load_workbook
from openpyxl.chart import BarChart, Reference

from server.services.pdf_reports import PdfColumn, ReportPDF
from server.services.spreadsheets import Column, Kind, Sheet, Value, workbook_bytes
from server.services.weekly_management import CollectorWeekLine, WeeklyManagementReport
from shared.formatting import format_date, format_money, format_number
from shared.kpis import KpiFigures, KpiReport, RiskyClient
from shared.visits import FLAG_LABELS, OUTCOME_LABELS

SEGMENT_NAMES: Final = {
    "grupo": "Grupo",
    "convenio_externo": "Convenio externo",
    "entidad_externa": "Entidad externa",
    "particular": "Particular",
}
LEVEL_NAMES: Final = {"alto": "Alto", "medio": "Medio", "bajo": "Bajo"}
CHART_SHEET: Final = "Gráfico"

# (header, kind, field of KpiFigures)
# The promise columns both tables share: made, due and what became of them.
_PROMISE_COLUMNS: Final[tuple[tuple[str, Kind, str], ...]] = (
    ("Promesas hechas", "int", "promises_made"),
    ("Promesas que vencen", "int", "promises_due"),
    ("Cumplidas", "int", "promises_kept"),
    ("Parciales", "int", "promises_partial"),
    ("Incumplidas", "int", "promises_broken"),
    ("Pendientes", "int", "promises_pending"),
    ("Cumplimiento", "percent", "kept_rate_pct"),
)

KPI_COLUMNS: Final[tuple[tuple[str, Kind, str], ...]] = (
    ("Vencido al inicio", "money", "overdue_at_start"),
    ("Facturas vencidas al inicio", "int", "overdue_invoices_at_start"),
    ("Recaudado de lo vencido", "money", "recovered"),
    ("Recuperación", "percent", "recovery_pct"),
    ("Facturas saldadas", "int", "invoices_settled"),
    ("Días promedio de recuperación", "decimal", "avg_recovery_days"),
    ("Visitas", "int", "visits"),
    ("Contactos efectivos", "int", "effective_contacts"),
    ("Visitas verificadas", "int", "verified_visits"),
    ("Visitas marcadas", "int", "flagged_visits"),
    ("Visitas por semana", "decimal", "visits_per_week"),
    ("Contactos efectivos por semana", "decimal", "effective_contacts_per_week"),
    ("Verificadas", "percent", "verified_share_pct"),
    *_PROMISE_COLUMNS,
)


def _kpi_columns(first: str) -> list[Column]:
    return [Column(first), *(Column(h, kind) for h, kind, _ in KPI_COLUMNS)]


def _kpi_cells(label: str, f: KpiFigures) -> list[Value]:
    return [label, *(getattr(f, name) for _, _, name in KPI_COLUMNS)]


def segment_name(segment: str | None) -> str:
    return "Cliente desconocido" if segment is None else SEGMENT_NAMES.get(segment, segment)


def collector_name(collector: str | None) -> str:
    return "Sin gestor asignado" if collector is None else collector


def outcome_label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, outcome)


def flags_label(flags: Sequence[str]) -> str:
    return ", ".join(FLAG_LABELS.get(f, f) for f in flags)


def _period(report: KpiReport) -> str:
    return f"{format_date(report.period_from)} a {format_date(report.period_to)}"


RISK_COLUMNS: Final = (
    Column("Código"),
    Column("Cliente"),
    Column("Gestor"),
    Column("Segmento"),
    Column("Puntaje", "int"),
    Column("Nivel"),
    Column("Saldo vencido", "money"),
    Column("Días de mora", "int"),
    Column("Promesas incumplidas", "int"),
    Column("Último contacto efectivo", "date"),
    Column("Motivos"),
)


def _risk_rows(clients: Sequence[RiskyClient]) -> list[list[Value]]:
    return [
        [
            c.code,
            c.name,
            collector_name(c.collector),
            segment_name(c.segment),
            c.score,
            LEVEL_NAMES[c.level],
            c.overdue_balance,
            c.oldest_days_past_due,
            c.broken_promises,
            c.last_contact,
            "; ".join(f"{r.text} (+{r.points})" for r in c.reasons),
        ]
        for c in clients
    ]


def kpi_workbook(report: KpiReport) -> bytes:
    """Collectors (the team last), segments and risky clients, one sheet each."""
    subtitle = f"Periodo: {_period(report)} ({report.days} días, {report.timezone})"
    filters = []
    if report.collector:
        filters.append(f"gestor {report.collector}")
    if report.segment:
        filters.append(f"segmento {segment_name(report.segment)}")
    if filters:
        subtitle += f" - filtro: {', '.join(filters)}"
    notes = [*report.notes, f"Cobro jurídico: {report.legal.note}"]
    return workbook_bytes(
        [
            Sheet(
                "Gestores",
                _kpi_columns("Gestor"),
                [
                    *(_kpi_cells(collector_name(r.collector), r) for r in report.collectors),
                    _kpi_cells("Equipo", report.team),
                ],
                title="Indicadores de cartera y gestión",
                subtitle=subtitle,
                notes=notes,
            ),
            Sheet(
                "Segmentos",
                _kpi_columns("Segmento"),
                [
                    *(_kpi_cells(segment_name(r.segment), r) for r in report.segments),
                    _kpi_cells("Equipo", report.team),
                ],
                title="Indicadores por segmento",
                subtitle=subtitle,
            ),
            Sheet(
                "Clientes en riesgo",
                RISK_COLUMNS,
                _risk_rows(report.risky_clients),
                title="Clientes en riesgo",
                subtitle=f"Al {format_date(report.period_to)}",
            ),
        ]
    )


# --- weekly management report ------------------------------------------------------------------

# (header, kind, field of CollectorWeekLine)
WEEK_COLUMNS: Final[tuple[tuple[str, Kind, str], ...]] = (
    ("Visitas", "int", "visits"),
    ("Contactos efectivos", "int", "effective_contacts"),
    ("Verificadas", "int", "verified_visits"),
    ("Clientes visitados", "int", "clients_visited"),
    ("Marcadas", "int", "flagged_visits"),
    ("Pagos", "int", "payments"),
    ("Recaudado", "money", "collected"),
    ("Anulado", "money", "voided"),
    ("Recaudo neto", "money", "net_collected"),
    *_PROMISE_COLUMNS,
    ("Recuperación de su cartera", "percent", "recovery_pct"),
)


def _week_cells(line: CollectorWeekLine) -> list[Value]:
    return [line.collector, line.full_name, *(getattr(line, n) for _, _, n in WEEK_COLUMNS)]


def _week_title(report: WeeklyManagementReport) -> str:
    return f"Semana {report.week}: {format_date(report.monday)} a {format_date(report.sunday)}"


def weekly_workbook(report: WeeklyManagementReport) -> bytes:
    """Summary per collector (with the team's total), the team's KPIs, flagged visits, risky
    clients, and a sheet with a bar chart of visits and effective contacts per collector."""
    subtitle = f"{_week_title(report)} ({report.timezone})"
    sheets = [
        Sheet(
            "Resumen",
            [
                Column("Gestor"),
                Column("Nombre"),
                *(Column(h, kind) for h, kind, _ in WEEK_COLUMNS),
            ],
            [*(_week_cells(line) for line in report.collectors), _week_cells(report.totals)],
            title="Informe semanal de gestión",
            subtitle=subtitle,
            notes=[*report.notes, f"Cobro jurídico: {report.legal.note}"],
        ),
        Sheet(
            "Indicadores",
            _kpi_columns("Alcance"),
            [_kpi_cells("Equipo", report.kpis)],
            title="Indicadores de la semana",
            subtitle=subtitle,
        ),
        Sheet(
            "Visitas marcadas",
            [
                Column("Fecha", "date"),
                Column("Gestor"),
                Column("Código"),
                Column("Cliente"),
                Column("Resultado"),
                Column("Distancia (m)", "decimal"),
                Column("Precisión (m)", "decimal"),
                Column("Marcas"),
            ],
            [
                [
                    v.business_date,
                    v.collector,
                    v.client_code or "",
                    v.client_name or "Cliente desconocido",
                    outcome_label(v.outcome),
                    None if v.distance_m is None else Decimal(str(round(v.distance_m))),
                    None if v.accuracy_m is None else Decimal(str(round(v.accuracy_m))),
                    flags_label(v.flags),
                ]
                for v in report.flagged_visits
            ],
            title="Visitas marcadas",
            subtitle=subtitle,
            notes=_flagged_note(report),
        ),
        Sheet(
            "Clientes en riesgo",
            RISK_COLUMNS,
            _risk_rows(report.risky_clients),
            title="Clientes en mayor riesgo",
            subtitle=f"Al {format_date(report.sunday)}",
        ),
        Sheet(
            CHART_SHEET,
            [
                Column("Gestor"),
                Column("Visitas", "int"),
                Column("Contactos efectivos", "int"),
                Column("Recaudo neto", "money"),
            ],
            [
                [line.collector, line.visits, line.effective_contacts, line.net_collected]
                for line in report.collectors
            ],
            title="Visitas y contactos efectivos por gestor",
            subtitle=subtitle,
        ),
    ]
    return _with_bar_chart(workbook_bytes(sheets), len(report.collectors))


def _flagged_note(report: WeeklyManagementReport) -> list[str]:
    more = report.flagged_visits_total - len(report.flagged_visits)
    if more <= 0:
        return []
    return [
        f"Se listan las primeras {len(report.flagged_visits)} de "
        f"{report.flagged_visits_total} visitas marcadas; todas: "
        f"/v1/reports/flagged-visits?from={report.monday.isoformat()}"
        f"&to={report.sunday.isoformat()}&format=xlsx"
    ]


def _with_bar_chart(content: bytes, rows: int) -> bytes:
    """Add a clustered bar chart of the chart sheet's Visitas and Contactos efectivos columns.
    The sheet's table starts under its title, subtitle and a blank row (header on row 4)."""
    book = load_workbook(io.BytesIO(content))
    ws = book[CHART_SHEET]
    header = 4
    if rows:
        chart = BarChart()
        chart.type = "col"
        chart.title = "Visitas y contactos efectivos por gestor"
        chart.y_axis.title = "Cantidad"
        chart.x_axis.title = "Gestor"
        data = Reference(ws, min_col=2, max_col=3, min_row=header, max_row=header + rows)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=header + 1, max_row=header + rows))
        chart.width = 24
        chart.height = 10
        ws.add_chart(chart, f"F{header}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# A printed page holds a readable chart of this many bars and a list of this many visits.
PDF_CHART_BARS: Final = 15
PDF_FLAGGED_ROWS: Final = 40


def _top_bars(title: str, bars: list[tuple[str, Decimal]]) -> tuple[str, list[tuple[str, Decimal]]]:
    """The chart's title and bars: every collector, or the `PDF_CHART_BARS` highest."""
    if len(bars) <= PDF_CHART_BARS:
        return title, bars
    top = sorted(bars, key=lambda bar: (-bar[1], bar[0]))[:PDF_CHART_BARS]
    return f"{title} (los {PDF_CHART_BARS} más altos de {len(bars)})", top


def weekly_pdf(
    report: WeeklyManagementReport, *, generated_at: datetime, tz: tzinfo, locale: str
) -> bytes:
    """The printable report: totals, a table per collector, two bar charts (net collections and
    effective contacts per collector), the team's KPIs, flagged visits and risky clients."""
    pdf = ReportPDF(
        "Informe semanal de gestión",
        generated_at=generated_at,
        tz=tz,
        period=_week_title(report),
        locale=locale,
        landscape=True,
    )
    pdf.add_page()
    t, k = report.totals, report.kpis

    def pct_text(value: Decimal | None) -> str:
        return "-" if value is None else f"{format_number(value, locale)} %"

    pdf.heading("Totales del equipo")
    pdf.key_values(
        [
            ("Visitas", format_number(t.visits, locale)),
            ("Contactos efectivos", format_number(t.effective_contacts, locale)),
            ("Visitas marcadas", format_number(t.flagged_visits, locale)),
            ("Recaudo neto", format_money(t.net_collected, locale=locale)),
            ("Promesas cumplidas", f"{t.promises_kept} de {t.promises_due}"),
            ("Promesas incumplidas", format_number(t.promises_broken, locale)),
            ("Recuperación de lo vencido", pct_text(k.recovery_pct)),
            ("Visitas verificadas", pct_text(k.verified_share_pct)),
        ],
        label_width=70,
    )
    pdf.heading("Por gestor")
    columns = [
        PdfColumn("Gestor", 1.4),
        PdfColumn("Visitas", 0.9, "number"),
        PdfColumn("Contactos", 1.4, "number"),
        PdfColumn("Verificadas", 1.3, "number"),
        PdfColumn("Marcadas", 1.2, "number"),
        PdfColumn("Pagos", 0.8, "number"),
        PdfColumn("Recaudo neto", 1.7, "money"),
        PdfColumn("Prom. hechas", 1.6, "number"),
        PdfColumn("Cumplidas", 1.3, "number"),
        PdfColumn("Parciales", 1.2, "number"),
        PdfColumn("Incumplidas", 1.4, "number"),
        PdfColumn("Cumplimiento", 1.6, "percent"),
    ]

    def cells(line: CollectorWeekLine) -> list[str | int | Decimal | None]:
        return [
            line.collector,
            line.visits,
            line.effective_contacts,
            line.verified_visits,
            line.flagged_visits,
            line.payments,
            line.net_collected,
            line.promises_made,
            line.promises_kept,
            line.promises_partial,
            line.promises_broken,
            line.kept_rate_pct,
        ]

    pdf.table_rows(columns, [cells(line) for line in report.collectors], totals=cells(t))
    pdf.bar_chart(
        *_top_bars(
            "Recaudo neto por gestor",
            [(line.collector, line.net_collected) for line in report.collectors],
        ),
        value_text=lambda v: format_money(v, locale=locale),
    )
    pdf.bar_chart(
        *_top_bars(
            "Contactos efectivos por gestor",
            [(line.collector, Decimal(line.effective_contacts)) for line in report.collectors],
        )
    )
    pdf.set_fill_color(255, 255, 255)  # the charts leave their bar colour as the cell fill
    pdf.heading("Indicadores de la semana")
    pdf.key_values(
        [
            ("Vencido al inicio", format_money(k.overdue_at_start, locale=locale)),
            ("Recaudado de lo vencido", format_money(k.recovered, locale=locale)),
            ("Recuperación", pct_text(k.recovery_pct)),
            ("Facturas saldadas", format_number(k.invoices_settled, locale)),
            (
                "Días promedio de recuperación",
                "-" if k.avg_recovery_days is None else format_number(k.avg_recovery_days, locale),
            ),
            (
                "Contactos efectivos por semana",
                format_number(k.effective_contacts_per_week, locale),
            ),
            ("Cumplimiento de promesas", pct_text(k.kept_rate_pct)),
        ],
        label_width=70,
    )
    pdf.heading("Visitas marcadas")
    if report.flagged_visits:
        pdf.table_rows(
            [
                PdfColumn("Fecha", 1.2, "date"),
                PdfColumn("Gestor", 1.5),
                PdfColumn("Cliente", 3),
                PdfColumn("Resultado", 1.3),
                PdfColumn("Distancia (m)", 1.2, "number"),
                PdfColumn("Marcas", 3),
            ],
            [
                [
                    v.business_date,
                    v.collector,
                    v.client_name or "Cliente desconocido",
                    outcome_label(v.outcome),
                    None if v.distance_m is None else round(v.distance_m),
                    flags_label(v.flags),
                ]
                for v in report.flagged_visits[:PDF_FLAGGED_ROWS]
            ],
        )
        more = report.flagged_visits_total - min(PDF_FLAGGED_ROWS, len(report.flagged_visits))
        if more > 0:
            pdf.paragraph(
                f"... y {format_number(more, locale)} más: la lista completa está en el informe "
                "de visitas marcadas (/v1/reports/flagged-visits)."
            )
    else:
        pdf.paragraph("Ninguna visita marcada en la semana.")
    pdf.heading("Clientes en mayor riesgo")
    if report.risky_clients:
        pdf.table_rows(
            [
                PdfColumn("Cliente", 3),
                PdfColumn("Gestor", 1.4),
                PdfColumn("Puntaje", 0.9, "number"),
                PdfColumn("Saldo vencido", 1.7, "money"),
                PdfColumn("Motivos", 5),
            ],
            [
                [
                    f"{c.code} {c.name}",
                    collector_name(c.collector),
                    c.score,
                    c.overdue_balance,
                    "; ".join(r.text for r in c.reasons),
                ]
                for c in report.risky_clients
            ],
        )
    else:
        pdf.paragraph("Ningún cliente en riesgo medio o alto.")
    pdf.heading("Cobro jurídico")
    pdf.paragraph(report.legal.note)
    return pdf.to_bytes()
