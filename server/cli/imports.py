"""`recaudo import ledger FILE [--dry-run] [--skip-bad-rows] [--as USERNAME] [--json]`.

Exit codes: 0 imported (or a clean dry run); 1 bad rows stopped the import (or would, in a dry
run), or every row was bad; 2 the file itself cannot be imported (unknown type, missing columns).
Pending migrations are applied first, so a fresh install can import straight away.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.db.models import User
from server.services.ledger_import.service import Progress as ProgressCallback
from server.services.ledger_import.service import run_import
from server.services.ledger_import.summary import ImportSummary
from server.settings import Settings
from shared.errors import DomainError

_SHOWN_ERRORS = 20
_STAGES = {"reading": "Leyendo filas", "checking": "Verificando", "writing": "Guardando"}


def register(app: typer.Typer) -> None:
    import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)

    @import_app.command("ledger")
    def ledger(
        file: Annotated[
            Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or XLSX")
        ],
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, write nothing.")] = False,
        skip_bad_rows: Annotated[
            bool, typer.Option("--skip-bad-rows", help="Import the good rows anyway.")
        ] = False,
        as_user: Annotated[
            str | None, typer.Option("--as", help="Record this username as the importer.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    ) -> None:
        """Import a receivables ledger exported from the ERP or Excel (one row per invoice)."""
        console = Console(stderr=as_json)
        settings = Settings()
        url = settings.effective_database_url
        migrate.upgrade(url)  # (like `user add`: the first commands of a fresh install)
        engine = make_engine(url)
        try:
            with make_session_factory(engine)() as session:
                user_id = _user_id(session, as_user) if as_user else None
                with _progress_bar(console) as on_progress:
                    summary = run_import(
                        session,
                        file,
                        as_of=datetime.now(settings.tz).date(),
                        user_id=user_id,
                        imported_by=as_user or "cli",
                        dry_run=dry_run,
                        skip_bad_rows=skip_bad_rows,
                        progress=on_progress,
                    )
                if summary.written:
                    session.commit()
        except DomainError as exc:
            console.print(f"[red]No se puede importar[/]: {exc.message} [dim]({exc.code})[/]")
            if exc.details:
                console.print(exc.details)
            raise typer.Exit(2) from exc
        finally:
            engine.dispose()
        if as_json:
            typer.echo(summary.model_dump_json(indent=2))
        else:
            print_summary(console, summary)
        if summary.rejected or (summary.rows_read and not summary.rows_imported):
            raise typer.Exit(1)

    app.add_typer(import_app, name="import")


def _user_id(session: Session, username: str) -> uuid.UUID:
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise DomainError(f"no hay un usuario {username!r}", code="unknown_user")
    return user_id


@contextmanager
def _progress_bar(console: Console) -> Iterator[ProgressCallback]:
    """A transient rich progress bar fed by the service's (stage, done, total) callback."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("Abriendo archivo", total=None)

        def update(stage: str, done: int, total: int | None) -> None:
            progress.update(
                task, description=_STAGES.get(stage, stage), completed=done, total=total
            )

        yield update


def print_summary(console: Console, summary: ImportSummary) -> None:
    """The summary as a table, then the first errors and warnings."""
    mode = " (simulación: no se guardó nada)" if summary.dry_run else ""
    table = Table(title=f"Importación de {summary.filename}{mode}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    figures = [
        ("Filas leídas", summary.rows_read),
        ("Filas importadas", summary.rows_imported),
        ("Filas con errores", summary.rows_skipped),
        ("Clientes nuevos", summary.clients_created),
        ("Clientes actualizados", summary.clients_updated),
        ("Facturas nuevas", summary.invoices_created),
        ("Facturas actualizadas", summary.invoices_updated),
        ("Facturas sin cambios", summary.invoices_unchanged),
        ("Ajustes", summary.adjustments_posted),
        ("Neto de ajustes", f"{summary.adjustments_net:.2f}"),
    ]
    for label, value in figures:
        table.add_row(label, str(value))
    if summary.ignored_columns:
        table.add_row("Columnas ignoradas", ", ".join(summary.ignored_columns))
    if summary.batch_id:
        table.add_row("Lote", str(summary.batch_id))
    console.print(table)
    for title, issues, total, style in (
        ("Errores", summary.errors, summary.error_count, "red"),
        ("Advertencias", summary.warnings, summary.warning_count, "yellow"),
    ):
        if not total:
            continue
        listing = Table(title=f"{title} ({total})", title_style=style)
        for column in ("Fila", "Columna", "Código", "Detalle", "Valor"):
            listing.add_column(column)
        for issue in issues[:_SHOWN_ERRORS]:
            listing.add_row(
                str(issue.row or ""), issue.column or "", issue.code, issue.message,
                issue.value or "",
            )  # fmt: skip
        console.print(listing)
        if total > _SHOWN_ERRORS:
            console.print(f"… y {total - _SHOWN_ERRORS} más (use --json para verlos)")
    if summary.rejected:
        console.print(
            "[red]Hay filas con errores: no se importó nada.[/] Corríjalas o use --skip-bad-rows."
        )
    elif summary.written:
        console.print("[green]Importación guardada.[/]")
