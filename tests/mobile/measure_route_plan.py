"""How long "Planear ruta" takes on the phone for each demo collector (40-80 clients): not a test
(pytest does not collect it), a measurement to quote. Each collector's portfolio from the
reference scenario goes into a fresh phone database, then `AppState.plan_route` runs as a tap
does (Hoy's rows, the planner, the plan and its event stored) at 08:00 (the whole day ahead, the
hardest case) and at 14:00 on a Monday. Times are process CPU time (this machine is shared, so
wall time mostly measures the neighbours) and wall time, the median of 5 runs; the planner alone
is timed at the phone's effort and at the server's full effort for comparison.

    .venv/bin/python -m tests.mobile.measure_route_plan
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from mobile.data.models import ClientMirror
from mobile.state.app import AppState
from mobile.state.route import PHONE_EFFORT, plan_day
from shared.contact_rules import ContactRules, load_rules
from shared.geo import Point
from shared.parsing import parse_amount, parse_date
from shared.routing.planner import solve
from shared.scenario import reference_scenario
from tests.mobile.conftest import new_device
from tests.mobile.test_state_app import FakeEnroller

BOGOTA = timezone(timedelta(hours=-5))
DAY = date(2026, 11, 23)  # a Monday
START = Point(4.6486, -74.0628)
RUNS = 5


def portfolio(rows: list[dict[str, str]]) -> list[ClientMirror]:
    by_code: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_code[row["codigo_cliente"]].append(row)
    clients = []
    for code, lines in by_code.items():
        first = lines[0]
        invoices: list[dict[str, Any]] = [
            {
                "number": line["factura"],
                "due_date": parse_date(line["fecha_vencimiento"]).isoformat(),
                "balance": str(parse_amount(line["saldo"])),
            }
            for line in lines
        ]
        clients.append(
            ClientMirror(
                id=str(uuid.uuid4()),
                code=code,
                name=first["nombre_cliente"],
                segment=first["segmento"],
                address=first["direccion"],
                lat=float(first["latitud"].replace(",", ".")),
                lon=float(first["longitud"].replace(",", ".")),
                balance=sum((Decimal(i["balance"]) for i in invoices), Decimal(0)),
                version=1,
                open_invoices=invoices,
                updated_at=datetime(2026, 11, 23, 6, tzinfo=BOGOTA),
            )
        )
    return clients


def timed(action: Any) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    action()
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def planner_ms(app: AppState, now: datetime, rules: ContactRules, effort: float) -> float:
    def plan() -> None:
        plan_day(
            app.rows,
            app.locate_client,
            start=START,
            now=now,
            tz="America/Bogota",
            rules=rules,
            planner=lambda request: solve(request, effort),
        )

    return timed(plan)[0]


def main() -> None:
    scenario = reference_scenario(DAY)
    rules = load_rules("CO")
    print("collector  clients  start  kept  left  tap cpu/wall ms  planner phone / full cpu ms")
    with tempfile.TemporaryDirectory() as folder:
        for person in scenario.collectors:
            rows = [r for r in scenario.rows if r["gestor"] == person.username]
            for hour in (8, 14):
                now = datetime(2026, 11, 23, hour, tzinfo=BOGOTA)
                taps, phone, full = [], [], []
                for run in range(RUNS):
                    db = new_device(Path(folder) / f"{person.username}-{hour}-{run}.db")
                    with db.begin() as session:
                        session.add_all(portfolio(rows))
                    app = AppState(
                        db=db,
                        clock=lambda now=now: now,
                        enroller=FakeEnroller(),
                        contact_rules=rules,
                        route_start=START,
                    )
                    app.start()
                    taps.append(timed(app.plan_route))
                    phone.append(planner_ms(app, now, rules, PHONE_EFFORT))
                    full.append(planner_ms(app, now, rules, 1.0))
                plan = app.route
                assert plan is not None
                print(
                    f"{person.username:9}  {len(app.records):7}  {hour:02}:00  "
                    f"{len(plan.order):4}  {len(plan.skipped):4}  "
                    f"{statistics.median(t[0] for t in taps):6.0f} / "
                    f"{statistics.median(t[1] for t in taps):5.0f}  "
                    f"{statistics.median(phone):10.0f} / {statistics.median(full):5.0f}"
                )


if __name__ == "__main__":
    main()
