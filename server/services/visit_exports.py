"""The weekly visit counts as an XLSX workbook: the counts per collector (with totals) and the
week's flagged visits, the same numbers as the JSON answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from decimal import Decimal

from server.services.spreadsheets import Column, Sheet, workbook_bytes
from server.services.visit_counts import FlaggedVisit, WeeklyVisits
from shared.visits import FLAG_LABELS, OUTCOME_LABELS

COUNT_COLUMNS = (
    Column("Gestor"),
    Column("Nombre"),
    Column("Visitas", "int", total=True),
    Column("Contactos efectivos", "int", total=True),
    Column("Visitas verificadas", "int", total=True),
    Column("Clientes visitados", "int", total=True),
    Column("Visitas marcadas", "int", total=True),
)
FLAGGED_COLUMNS = (
    Column("Fecha y hora", "date"),
    Column("Gestor"),
    Column("Código cliente"),
    Column("Cliente"),
    Column("Resultado"),
    Column("Distancia (m)", "int"),
    Column("Precisión GPS (m)", "int"),
    Column("Alertas"),
)


def _metres(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(round(value))


def weekly_visits_workbook(
    report: WeeklyVisits, flagged: Sequence[FlaggedVisit], tz: tzinfo
) -> bytes:
    period = (
        f"Semana {report.week}: {report.monday:%d/%m/%Y} a {report.sunday:%d/%m/%Y} "
        f"({report.timezone})"
    )
    counts = Sheet(
        name=f"Visitas {report.week}",
        title="Visitas por gestor",
        subtitle=period,
        columns=COUNT_COLUMNS,
        rows=[
            (
                r.collector,
                r.full_name,
                r.visits,
                r.effective_contacts,
                r.verified_visits,
                r.clients_visited,
                r.flagged_visits,
            )
            for r in report.rows
        ],
        totals_label="Total",
        notes=(
            "Contactos efectivos: contactado, promesa de pago, pagó o reclamo. Verificada: el GPS "
            "quedó dentro del radio de la ubicación del cliente.",
            "Las visitas marcadas cuentan como visitas y se listan en la hoja siguiente.",
        ),
    )
    listed = Sheet(
        name="Visitas marcadas",
        title="Visitas marcadas",
        subtitle=period,
        columns=FLAGGED_COLUMNS,
        rows=[
            (
                v.device_time.astimezone(tz),
                v.collector,
                v.client_code or "(desconocido)",
                v.client_name or "",
                OUTCOME_LABELS.get(v.outcome, v.outcome),
                _metres(v.distance_m),
                _metres(v.accuracy_m),
                ", ".join(FLAG_LABELS.get(f, f) for f in v.flags),
            )
            for v in flagged
        ],
    )
    return workbook_bytes([counts, listed])
