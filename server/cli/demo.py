"""`recaudo demo`: a fresh SQLite database seeded with the reference scenario, then the server."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from server.cli.serve import run_server
from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.services.demo import DemoSeed, FieldSeed, seed_demo, seed_field_week, working_days
from server.settings import Settings
from shared.scenario import IMPORT_HEADERS, Scenario, reference_scenario

DEMO_FILE = "cartera-demo.csv"


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        data_dir: Annotated[Path, typer.Option(help="Where the demo database goes.")] = Path(
            "data/demo"
        ),
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        seed: Annotated[int, typer.Option(help="Seed of the generated portfolio.")] = 2300,
        serve: Annotated[bool, typer.Option(help="Start the server after seeding.")] = True,
    ) -> None:
        """A fresh demo: seeds the reference scenario into a new SQLite database and serves it."""
        console = Console()
        # Always a SQLite file of its own: a demo must never touch RECAUDO_DATABASE_URL's database.
        settings = Settings(data_dir=data_dir, database_url="")
        seeded, field = build_demo(settings, seed)
        _print_welcome(console, seeded, field, settings, host, port)
        if serve:
            run_server(settings, host, port)


def build_demo(settings: Settings, seed: int = 2300) -> tuple[DemoSeed, FieldSeed]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for stale in settings.data_dir.glob("recaudo.db*"):
        stale.unlink()
    url = settings.effective_database_url
    migrate.upgrade(url)
    scenario = reference_scenario(datetime.now(settings.tz).date(), seed=seed)
    write_import_file(scenario, settings.data_dir / DEMO_FILE)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            # The ERP export the demo imports was taken the day before the field week it seeds.
            days = working_days(scenario.as_of)
            exported = days[0] - timedelta(days=1) if days else scenario.as_of
            seeded = seed_demo(session, scenario, ledger_as_of=exported)
            session.commit()
            field = seed_field_week(session, scenario, tz=settings.tz, seed=seed)
            session.commit()
    finally:
        engine.dispose()
    return seeded, field


def write_import_file(scenario: Scenario, path: Path) -> None:
    """The scenario as an analyst would export it from Excel in Colombia: `;`, UTF-8 with BOM."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=IMPORT_HEADERS, delimiter=";")
        writer.writeheader()
        writer.writerows(scenario.rows)


def _print_welcome(
    console: Console, seeded: DemoSeed, field: FieldSeed, settings: Settings, host: str, port: int
) -> None:
    summary = seeded.summary
    console.print(
        f"[bold green]Recaudo demo[/] — {summary.clients_created} clientes, "
        f"{summary.invoices_created} facturas, cartera al {seeded.scenario.as_of:%d/%m/%Y}"
    )
    if field.days:
        console.print(
            f"Trabajo de campo del {field.days[0]:%d/%m/%Y} al {field.days[-1]:%d/%m/%Y}: "
            f"{field.pushed} eventos enviados por los celulares de la demo ({field.held} retenidos)"
        )
    console.print(f"Base de datos: {settings.effective_database_url}")
    console.print(f"Archivo de cartera de ejemplo: {settings.data_dir / DEMO_FILE}")
    base = f"http://{host}:{port}"
    console.print(f"API y documentación: [link]{base}/docs[/link]")
    console.print(f"Páginas del supervisor: [link]{base}/supervisor/[/link]")
    logins = Table(title="Usuarios de la demo", show_lines=False)
    for column in ("usuario", "rol", "contraseña", "nombre"):
        logins.add_column(column)
    for person in seeded.scenario.people:
        logins.add_row(person.username, person.role, person.password, person.full_name)
    console.print(logins)
