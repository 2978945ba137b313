"""KPIs of a period and the weekly management report: one small portfolio computed by hand.

Period 2026-11-02 (Mon) .. 2026-11-15 (Sun): 14 days, 2 weeks. The server's clock reads Friday
2026-11-20 12:00 in Bogotá, so every promise of the period is past its grace day.

KX particular  ana   X-1 due 2026-10-01  1 000 000   overdue at the start
                     X-2 due 2026-11-30    500 000   not yet due at the start: left out
                     11-05 ana pays 400 000 -> X-1 (recovered)
                     11-11 ana pays  50 000 -> X-1, voided 11-12 (nets to nothing)
KY grupo       ana   Y-1 due 2026-10-20    300 000
                     10-25 payment 100 000 (before the period): 200 000 overdue at the start
                     11-10 ana pays 200 000 -> Y-1 settled, 21 days after its due date
KZ particular  beto  Z-1 due 2026-07-01    800 000   nothing paid

overdue at start: ana 1 200 000 (2 invoices), beto 800 000, team 2 000 000
recovered:        ana   600 000 -> 50.00 %, beto 0 -> 0.00 %, team 600 000 -> 30.00 %
by segment:       particular 1 800 000 / 400 000 -> 22.22 %; grupo 200 000 / 200 000 -> 100.00 %
settled:          Y-1 only, 21 days -> average 21.0

promises (made / due in the period; status with the 1-day grace):
  P1 ana  KX made 11-03 due 11-05 500 000; 400 000 paid 11-05             -> partial
  P2 ana  KY made 11-08 due 11-09 200 000; 200 000 paid 11-10 (grace day)  -> kept
  P3 beto KZ made 11-03 due 11-06 100 000; nothing                         -> broken
  P4 beto KZ made 11-13 due 11-14  50 000; nothing                         -> broken
  team: made 4, kept 1, partial 1, broken 2 -> kept rate 25.00 %; ana 50.00 %, beto 0.00 %

visits (business date, outcome, verified, flags):
  ana  KX 11-03 promise   yes  -            ana  KY 11-08 promise  no  client_location_unknown
  ana  KX 11-05 payment   yes  -            ana  KY 11-10 payment  no  far_from_client (flagged)
  ana  KX 11-12 not_found yes  -            ana  KX 11-16 contacted (after the period)
  beto KZ 10-20 contacted (before)          beto KZ 11-06 refused  no  -
  beto KZ 11-13 not_found no  poor_accuracy,outside_legal_hours (flagged)
  ana: 5 visits, 4 effective, 3 verified, 1 flagged; beto: 2, 0, 0, 1
  team: 7 visits (3.50 a week), 4 effective (2.00 a week), verified 3/7 = 42.86 %

risk at 11-15: KZ 137 days past due (30) + 2 broken promises (30) + last effective contact
  10-20, 26 days (10) = 70, alto. KX: 45 days (20), contacted 11-05 -> 20, bajo: not listed.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Client, Invoice, Visit
from server.services import kpis, ledger
from server.services.access import Actor
from tests.server.conftest import FakeClock, Login
from tests.server.sync_helpers import Phone, event, payment, push, register_phone, statuses, void

BOGOTA = ZoneInfo("America/Bogota")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=BOGOTA)
PERIOD = {"from": "2026-11-02", "to": "2026-11-15"}
D = Decimal


def at(day: str, hour: int = 10) -> str:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=BOGOTA).isoformat()


def _invoice(session: Session, c: Client, number: str, due: date, amount: int) -> None:
    inv = Invoice(
        client_id=c.id,
        number=number,
        issue_date=due - timedelta(days=30),
        due_date=due,
        amount=D(amount),
    )
    ledger.post_charge(session, inv, source="import")
    session.commit()


def _visit(
    session: Session,
    phone: Phone,
    c: Client,
    day: str,
    outcome: str,
    *,
    verified: bool = False,
    flags: str = "",
) -> None:
    moment = datetime.fromisoformat(at(day))
    session.add(
        Visit(
            event_id=uuid.uuid4(),
            client_id=c.id,
            user_id=phone.user.id,
            device_id=uuid.UUID(phone.device_id),
            device_time=moment,
            received_at=NOW,
            outcome=outcome,
            lat=4.65,
            lon=-74.06,
            accuracy_m=12.0,
            business_date=date.fromisoformat(day),
            verified=verified,
            flags=flags,
        )
    )
    session.commit()


def _promise(phone: Phone, c: Client, made: str, due: str, amount: str) -> dict[str, Any]:
    return event(
        phone,
        "promise.made",
        c.id,
        {"amount": amount, "due_date": due},
        device_time=at(made, 9),
    )


@pytest.fixture
def world(
    client: TestClient, session: Session, make_user: Any, make_client: Any, clock: FakeClock
) -> dict[str, Any]:
    clock.now = NOW
    ana, beto = make_user("collector", "ana"), make_user("collector", "beto")
    supervisor: Login = make_user("supervisor", "sonia")
    kx = make_client("KX", ana.user, segment="particular", name="Comercial Equis")
    ky = make_client("KY", ana.user, segment="grupo", name="Grupo Ye")
    kz = make_client("KZ", beto.user, segment="particular", name="Zeta Ltda")
    _invoice(session, kx, "X-1", date(2026, 10, 1), 1_000_000)
    _invoice(session, kx, "X-2", date(2026, 11, 30), 500_000)
    _invoice(session, ky, "Y-1", date(2026, 10, 20), 300_000)
    _invoice(session, kz, "Z-1", date(2026, 7, 1), 800_000)
    ledger.post_payment(
        session, client_id=ky.id, amount=D(100_000), effective_date=date(2026, 10, 25),
        source="manual",
    )  # fmt: skip
    session.commit()
    pa, pb = register_phone(client, ana), register_phone(client, beto)
    small = payment(pa, kx.id, "50000.00", device_time=at("2026-11-11"))
    events_a = [
        _promise(pa, kx, "2026-11-03", "2026-11-05", "500000.00"),
        payment(pa, kx.id, "400000.00", device_time=at("2026-11-05")),
        _promise(pa, ky, "2026-11-08", "2026-11-09", "200000.00"),
        payment(pa, ky.id, "200000.00", device_time=at("2026-11-10", 9)),
        small,
        {**void(pa, kx.id, small["event_id"]), "device_time": at("2026-11-12")},
    ]
    assert {s for s, _ in statuses(push(client, pa, events_a))} == {"applied"}
    events_b = [
        _promise(pb, kz, "2026-11-03", "2026-11-06", "100000.00"),
        _promise(pb, kz, "2026-11-13", "2026-11-14", "50000.00"),
    ]
    assert {s for s, _ in statuses(push(client, pb, events_b))} == {"applied"}
    _visit(session, pa, kx, "2026-11-03", "promise", verified=True)
    _visit(session, pa, kx, "2026-11-05", "payment", verified=True)
    _visit(session, pa, ky, "2026-11-08", "promise", flags="client_location_unknown")
    _visit(session, pa, ky, "2026-11-10", "payment", flags="far_from_client")
    _visit(session, pa, kx, "2026-11-12", "not_found", verified=True)
    _visit(session, pa, kx, "2026-11-16", "contacted", verified=True)
    _visit(session, pb, kz, "2026-10-20", "contacted")
    _visit(session, pb, kz, "2026-11-06", "refused")
    _visit(session, pb, kz, "2026-11-13", "not_found", flags="poor_accuracy,outside_legal_hours")
    return {"headers": supervisor.headers, "ana": ana, "beto": beto, "kz": kz}


def _get(client: TestClient, world: dict[str, Any], **params: str) -> dict[str, Any]:
    r = client.get("/v1/reports/kpis", params={**PERIOD, **params}, headers=world["headers"])
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _row(rows: list[dict[str, Any]], key: str, value: str | None) -> dict[str, Any]:
    (row,) = [r for r in rows if r[key] == value]
    return row


def test_recovery_of_the_overdue_portfolio(client: TestClient, world: dict[str, Any]) -> None:
    body = _get(client, world)
    team = body["team"]
    assert (team["overdue_at_start"], team["overdue_invoices_at_start"]) == ("2000000.00", 3)
    assert (team["recovered"], team["recovery_pct"]) == ("600000.00", "30.00")
    ana = _row(body["collectors"], "collector", "ana")
    beto = _row(body["collectors"], "collector", "beto")
    assert (ana["overdue_at_start"], ana["recovered"], ana["recovery_pct"]) == (
        "1200000.00",
        "600000.00",
        "50.00",
    )
    assert (beto["overdue_at_start"], beto["recovered"], beto["recovery_pct"]) == (
        "800000.00",
        "0.00",
        "0.00",
    )
    particular = _row(body["segments"], "segment", "particular")
    grupo = _row(body["segments"], "segment", "grupo")
    assert (particular["overdue_at_start"], particular["recovery_pct"]) == ("1800000.00", "22.22")
    assert (grupo["overdue_at_start"], grupo["recovery_pct"]) == ("200000.00", "100.00")


def test_average_recovery_time(client: TestClient, world: dict[str, Any]) -> None:
    body = _get(client, world)
    assert (body["team"]["invoices_settled"], body["team"]["avg_recovery_days"]) == (1, "21.0")
    beto = _row(body["collectors"], "collector", "beto")
    assert (beto["invoices_settled"], beto["avg_recovery_days"]) == (0, None)


def test_visits_per_week_and_verified_share(client: TestClient, world: dict[str, Any]) -> None:
    body = _get(client, world)
    assert (body["days"], body["weeks"]) == (14, "2.00")
    team = body["team"]
    assert (team["visits"], team["effective_contacts"], team["verified_visits"]) == (7, 4, 3)
    assert team["flagged_visits"] == 2
    assert (team["visits_per_week"], team["effective_contacts_per_week"]) == ("3.50", "2.00")
    assert team["verified_share_pct"] == "42.86"
    ana = _row(body["collectors"], "collector", "ana")
    assert (ana["visits"], ana["effective_contacts"], ana["verified_visits"]) == (5, 4, 3)
    assert ana["flagged_visits"] == 1


def test_promises_partial_kept_in_grace_and_broken(
    client: TestClient, world: dict[str, Any]
) -> None:
    body = _get(client, world)
    team = body["team"]
    counts = [team[f"promises_{k}"] for k in ("made", "due", "kept", "partial", "broken")]
    assert counts == [4, 4, 1, 1, 2]
    assert (team["promises_pending"], team["kept_rate_pct"]) == (0, "25.00")
    ana = _row(body["collectors"], "collector", "ana")
    beto = _row(body["collectors"], "collector", "beto")
    assert (ana["promises_kept"], ana["promises_partial"], ana["kept_rate_pct"]) == (1, 1, "50.00")
    assert (beto["promises_broken"], beto["kept_rate_pct"]) == (2, "0.00")


def test_promises_judged_while_the_grace_day_runs(
    client: TestClient, world: dict[str, Any], clock: FakeClock
) -> None:
    """On 11-15 itself P4 (due 11-14) is still in its grace day: pending, and not judged."""
    clock.now = datetime(2026, 11, 15, 18, 0, tzinfo=BOGOTA)
    team = _get(client, world)["team"]
    assert (team["promises_broken"], team["promises_pending"]) == (1, 1)
    assert team["kept_rate_pct"] == "33.33"  # 1 kept of 3 judged


def test_risky_clients_with_their_reasons(client: TestClient, world: dict[str, Any]) -> None:
    (kz,) = _get(client, world)["risky_clients"]
    assert (kz["code"], kz["collector"], kz["score"], kz["level"]) == ("KZ", "beto", 70, "alto")
    assert (kz["oldest_days_past_due"], kz["broken_promises"], kz["overdue_balance"]) == (
        137,
        2,
        "800000.00",
    )
    assert (kz["last_contact"], kz["days_since_contact"]) == ("2026-10-20", 26)
    assert [(r["code"], r["points"]) for r in kz["reasons"]] == [
        ("aging", 30),
        ("broken_promises", 30),
        ("no_contact", 10),
    ]
    assert kz["reasons"][0]["text"] == "Factura más antigua con 137 días de mora"


def test_no_legal_referrals_are_zero_with_a_note(client: TestClient, world: dict[str, Any]) -> None:
    # The figures with referrals: tests/server/test_legal.py.
    legal = _get(client, world)["legal"]
    assert (legal["referred"], legal["closed"], legal["resolved_positive"]) == (0, 0, 0)
    assert legal["positive_resolution_pct"] is None
    assert "jurídico" in legal["note"]


def test_filters_by_collector_and_segment(client: TestClient, world: dict[str, Any]) -> None:
    only_ana = _get(client, world, collector="ana")
    assert [r["collector"] for r in only_ana["collectors"]] == ["ana"]
    assert (only_ana["team"]["recovered"], only_ana["team"]["visits"]) == ("600000.00", 5)
    assert only_ana["risky_clients"] == []
    grupo = _get(client, world, segment="grupo")
    assert (grupo["team"]["overdue_at_start"], grupo["team"]["recovery_pct"]) == (
        "200000.00",
        "100.00",
    )
    assert (grupo["team"]["visits"], grupo["team"]["promises_kept"]) == (2, 1)


@pytest.mark.parametrize(
    "params",
    [{"from": "0001-01-01", "to": "0001-01-02"}, {"from": "9999-12-30", "to": "9999-12-31"},
     {"from": "2020-01-01", "to": "2026-11-15"}],
)  # fmt: skip
def test_periods_out_of_range_are_refused(
    client: TestClient, world: dict[str, Any], params: dict[str, str]
) -> None:
    r = client.get("/v1/reports/kpis", params=params, headers=world["headers"])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_period"


def test_an_unknown_collector_is_refused(client: TestClient, world: dict[str, Any]) -> None:
    r = client.get(
        "/v1/reports/kpis", params={**PERIOD, "collector": "nadie"}, headers=world["headers"]
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "unknown_collector"


def test_a_period_that_ends_before_it_starts(client: TestClient, world: dict[str, Any]) -> None:
    r = client.get(
        "/v1/reports/kpis",
        params={"from": "2026-11-15", "to": "2026-11-02"},
        headers=world["headers"],
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_period"


def test_the_xlsx_holds_the_json_numbers(client: TestClient, world: dict[str, Any]) -> None:
    body = _get(client, world)
    r = client.get(
        "/v1/reports/kpis", params={**PERIOD, "format": "xlsx"}, headers=world["headers"]
    )
    assert r.status_code == 200, r.text
    assert "kpis_2026-11-02_2026-11-15.xlsx" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    rows = {row[0]: row for row in book["Gestores"].iter_rows(min_row=5, values_only=True)}
    header = next(book["Gestores"].iter_rows(min_row=4, max_row=4, values_only=True))
    for label, json_row in (("ana", _row(body["collectors"], "collector", "ana")),
                            ("Equipo", body["team"])):  # fmt: skip
        cells = dict(zip(header, rows[label], strict=True))
        assert cells["Recaudado de lo vencido"] == D(json_row["recovered"])
        assert cells["Vencido al inicio"] == D(json_row["overdue_at_start"])
        assert cells["Recuperación"] == D(json_row["recovery_pct"])
        assert cells["Visitas"] == json_row["visits"]
        assert cells["Cumplimiento"] == D(json_row["kept_rate_pct"])
    risky = list(book["Clientes en riesgo"].iter_rows(min_row=5, values_only=True))
    assert [(r[0], r[4]) for r in risky] == [("KZ", 70)]


# --- the weekly management report of 2026-W46 (11-09 .. 11-15), the week before the clock's -----
# ana:  visits 11-10 (KY payment, flagged) and 11-12 (KX not_found, verified): 2, 1 effective;
#       payments 11-10 200 000 and 11-11 50 000 (voided 11-12): 2, 250 000, voided 50 000,
#       net 200 000; P2 due 11-09 kept; her portfolio at 11-09: X-1 600 000 + Y-1 200 000,
#       recovered 200 000 -> 25.00 %
# beto: visit 11-13 (flagged): 1, 0 effective; P4 made 11-13, due 11-14, broken; 0.00 %
# team: 3 visits, 1 effective, net 200 000, promises 1 kept of 2 -> 50.00 %,
#       recovery 200 000 / 1 600 000 = 12.50 %, 2 flagged visits, KZ the risky client


def _weekly(client: TestClient, world: dict[str, Any], **params: str) -> Any:
    return client.get("/v1/reports/weekly-management", params=params, headers=world["headers"])


def test_weekly_management_defaults_to_the_week_just_closed(
    client: TestClient, world: dict[str, Any]
) -> None:
    r = _weekly(client, world)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["week"], body["monday"], body["sunday"]) == (
        "2026-W46",
        "2026-11-09",
        "2026-11-15",
    )
    lines = {line["collector"]: line for line in body["collectors"]}
    ana, beto, total = lines["ana"], lines["beto"], body["totals"]
    assert (ana["visits"], ana["effective_contacts"], ana["flagged_visits"]) == (2, 1, 1)
    assert (ana["payments"], ana["collected"], ana["voided"], ana["net_collected"]) == (
        2,
        "250000.00",
        "50000.00",
        "200000.00",
    )
    assert (ana["promises_due"], ana["promises_kept"], ana["recovery_pct"]) == (1, 1, "25.00")
    assert (beto["visits"], beto["promises_made"], beto["promises_broken"]) == (1, 1, 1)
    assert (beto["net_collected"], beto["recovery_pct"]) == ("0.00", "0.00")
    assert (total["visits"], total["effective_contacts"], total["net_collected"]) == (
        3,
        1,
        "200000.00",
    )
    assert (total["promises_due"], total["kept_rate_pct"]) == (2, "50.00")
    assert (body["kpis"]["overdue_at_start"], body["kpis"]["recovery_pct"]) == (
        "1600000.00",
        "12.50",
    )
    flagged = [(v["collector"], v["business_date"], v["flags"]) for v in body["flagged_visits"]]
    assert flagged == [
        ("ana", "2026-11-10", ["far_from_client"]),
        ("beto", "2026-11-13", ["poor_accuracy", "outside_legal_hours"]),
    ]
    assert body["flagged_visits_total"] == 2
    assert [c["code"] for c in body["risky_clients"]] == ["KZ"]


def test_weekly_management_xlsx_has_the_json_numbers_and_a_chart(
    client: TestClient, world: dict[str, Any]
) -> None:
    body = _weekly(client, world, week="2026-W46").json()
    r = _weekly(client, world, week="2026-W46", format="xlsx")
    assert r.status_code == 200, r.text
    assert "informe_gestion_2026-W46.xlsx" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book["Resumen"]
    header = next(sheet.iter_rows(min_row=4, max_row=4, values_only=True))
    rows = {
        row[0]: dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=5, values_only=True)
        if row[0]
    }
    for name, line in (("ana", body["collectors"][0]), ("Total", body["totals"])):
        assert rows[name]["Visitas"] == line["visits"]
        assert rows[name]["Recaudo neto"] == D(line["net_collected"])
        assert rows[name]["Anulado"] == D(line["voided"])
        assert rows[name]["Cumplidas"] == line["promises_kept"]
    assert rows["Total"]["Cumplimiento"] == D(body["totals"]["kept_rate_pct"])
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        chart_xml = z.read(charts[0]).decode()
    # Visits and effective contacts of ana and beto (rows 5-6, under the header on row 4).
    assert "<barChart>" in chart_xml
    assert "'Gráfico'!$B$5:$B$6" in chart_xml and "'Gráfico'!$C$5:$C$6" in chart_xml
    data = list(book["Gráfico"].iter_rows(min_row=5, max_row=6, max_col=3, values_only=True))
    assert data == [("ana", 2, 1), ("beto", 1, 0)]


def test_weekly_management_pdf_has_the_title_and_totals(
    client: TestClient, world: dict[str, Any]
) -> None:
    r = _weekly(client, world, week="2026-W46", format="pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(r.content)).pages)
    assert "Informe semanal de gestión" in text
    assert "Semana 2026-W46: 09/11/2026 a 15/11/2026" in text
    assert "Recaudo neto" in text and "$ 200.000" in text
    assert "Recaudo neto por gestor" in text and "Zeta Ltda" in text


def test_weekly_management_refuses_a_malformed_week(
    client: TestClient, world: dict[str, Any]
) -> None:
    r = _weekly(client, world, week="2026-46")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_week"


def test_the_edges_of_the_period_start(session: Session, make_user: Any, make_client: Any) -> None:
    """A-1 due 11-01 (the day before `from`) is overdue when the period starts; A-2 due 11-02
    (`from` itself) is not yet. 10 000 paid on 11-01 leaves A-1 at 90 000 at the start; 150 000
    paid on 11-02 goes 90 000 to A-1 (settled, 1 day after its due date) and 60 000 to A-2.
    Recovery: 90 000 / 90 000 = 100.00 %; a credit note of 5 000 on A-2 on 11-03 is not a
    recovery. 55 000 paid on 11-04 settles A-2 (35 000, 2 days late) and A-3 (20 000, due 11-20:
    paid early, 0 days): 3 invoices settled, (1 + 2 + 0) / 3 = 1.0 day."""
    carla = make_user("collector", "carla").user
    ka = make_client("KA", carla, segment="convenio_externo")
    _invoice(session, ka, "A-1", date(2026, 11, 1), 100_000)
    _invoice(session, ka, "A-2", date(2026, 11, 2), 100_000)
    _invoice(session, ka, "A-3", date(2026, 11, 20), 20_000)
    for amount, day in ((10_000, date(2026, 11, 1)), (150_000, date(2026, 11, 2))):
        ledger.post_payment(
            session, client_id=ka.id, amount=D(amount), effective_date=day, source="manual"
        )
    a2 = session.scalars(select(Invoice).where(Invoice.number == "A-2")).one()
    ledger.post_adjustment(
        session, client_id=ka.id, invoice_id=a2.id, amount=D(-5_000),
        effective_date=date(2026, 11, 3), reason="Nota crédito", source="manual",
    )  # fmt: skip
    ledger.post_payment(
        session, client_id=ka.id, amount=D(55_000), effective_date=date(2026, 11, 4),
        source="manual",
    )  # fmt: skip
    session.commit()
    report = kpis.kpi_report(
        session,
        Actor(uuid.uuid4(), "sonia", "supervisor"),
        start=date(2026, 11, 2),
        end=date(2026, 11, 8),
        now=NOW,
        tz=BOGOTA,
        timezone="America/Bogota",
        segment="convenio_externo",
    )
    team = report.team
    assert (team.overdue_at_start, team.overdue_invoices_at_start) == (D("90000.00"), 1)
    assert (team.recovered, team.recovery_pct) == (D("90000.00"), D("100.00"))
    assert (team.invoices_settled, team.avg_recovery_days) == (3, D("1.0"))
    assert (team.visits_per_week, team.verified_share_pct) == (D("0.00"), None)
