"""The weekly management files of a large team: the PDF's charts keep the 15 highest collectors
and its flagged visits list stops at 40; both files say where the full list is (no database)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pypdf

from server.services.kpi_exports import weekly_pdf, weekly_workbook
from server.services.visit_counts import FlaggedVisit
from server.services.weekly_management import CollectorWeekLine, WeeklyManagementReport
from shared.kpis import KpiTally, LegalKpis, figures

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def _flagged(i: int) -> FlaggedVisit:
    return FlaggedVisit(
        visit_id=i,
        event_id=uuid.uuid4(),
        collector=f"gestor{i % 20:02d}",
        collector_id=uuid.uuid4(),
        client_id=uuid.uuid4(),
        client_code=f"C-{i:03d}",
        client_name=f"Cliente {i:03d}",
        business_date=date(2026, 11, 10),
        device_time=NOW,
        received_at=NOW,
        outcome="not_found",
        lat=4.6,
        lon=-74.1,
        accuracy_m=250.0,
        distance_m=900.0,
        verified=False,
        flags=["far_from_client", "poor_accuracy"],
    )


def _report() -> WeeklyManagementReport:
    lines = [
        CollectorWeekLine(
            collector=f"gestor{i:02d}",
            visits=10 + i,
            effective_contacts=i,
            net_collected=Decimal(1000 * (i + 1)),
        )
        for i in range(20)
    ]
    return WeeklyManagementReport(
        week="2026-W46",
        monday=date(2026, 11, 9),
        sunday=date(2026, 11, 15),
        timezone="America/Bogota",
        generated_at=NOW,
        collectors=lines,
        totals=CollectorWeekLine(collector="Total", visits=sum(line.visits for line in lines)),
        kpis=figures(KpiTally(), 7),
        flagged_visits=[_flagged(i) for i in range(45)],
        flagged_visits_total=250,  # the report lists the first 200
        risky_clients=[],
        legal=LegalKpis(),
        notes=[],
    )


def test_a_large_team_prints_the_top_bars_and_the_first_flagged_visits() -> None:
    content = weekly_pdf(_report(), generated_at=NOW, tz=UTC, locale="es_CO")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages)
    assert "Recaudo neto por gestor (los 15 más altos de 20)" in text
    assert "Contactos efectivos por gestor (los 15 más altos de 20)" in text
    assert "Cliente 039" in text and "Cliente 040" not in text
    assert "... y 210 más: la lista completa está en el informe de visitas marcadas" in text
    assert "Ningún cliente en riesgo medio o alto." in text


def test_the_workbook_has_every_listed_flagged_visit_and_says_where_the_rest_are() -> None:
    book = openpyxl.load_workbook(io.BytesIO(weekly_workbook(_report())))
    rows = list(book["Visitas marcadas"].iter_rows(min_row=5, values_only=True))
    flagged = [r for r in rows if isinstance(r[0], datetime)]
    assert len(flagged) == 45
    notes = [r[0] for r in rows if isinstance(r[0], str)]
    assert notes == [
        "Se listan las primeras 45 de 250 visitas marcadas; todas: "
        "/v1/reports/flagged-visits?from=2026-11-09&to=2026-11-15&format=xlsx"
    ]
    assert flagged[0][4:] == ("No encontrado", 900, 250, "lejos del cliente, GPS impreciso")
    chart_rows = list(book["Gráfico"].iter_rows(min_row=5, values_only=True))
    assert len(chart_rows) == 20
