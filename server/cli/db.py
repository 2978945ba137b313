"""`recaudo db upgrade|backup|restore|new-epoch`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from server.db import migrate
from server.services import backups
from server.settings import Settings
from shared.errors import DomainError

T = TypeVar("T")


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)

    @db_app.command("upgrade")
    def upgrade() -> None:
        """Apply the migrations to RECAUDO_DATABASE_URL (default: SQLite in the data dir)."""
        settings = Settings()
        migrate.upgrade(settings.effective_database_url)
        Console().print(f"[green]Database is up to date[/] ({_safe_url(settings)})")

    @db_app.command("backup")
    def backup(
        file: Annotated[Path, typer.Argument(help="where to write the backup", dir_okay=False)],
    ) -> None:
        """Back up the database to FILE (PostgreSQL: pg_dump custom format; SQLite: a copy made
        with the sqlite3 backup API). Safe while the server runs."""
        settings = Settings()
        _or_exit(lambda: backups.backup(settings.effective_database_url, file))
        Console().print(f"[green]Backed up[/] {_safe_url(settings)} to {file}")

    @db_app.command("restore")
    def restore(
        file: Annotated[Path, typer.Argument(help="a file written by `recaudo db backup`")],
        yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
    ) -> None:
        """Replace the database with the backup in FILE, migrate it, and give it a new sync
        epoch (phones then push again what they kept). Stop the server first."""
        settings = Settings()
        if not yes:
            typer.confirm(f"Replace every row of {_safe_url(settings)} with {file}?", abort=True)
        done = _or_exit(lambda: backups.restore(settings.effective_database_url, file))
        Console().print(
            f"[green]Restored[/] {file} into {_safe_url(settings)}; new sync epoch {done.epoch}"
            f" (was {done.previous_epoch or 'none'})"
        )

    @db_app.command("new-epoch")
    def new_epoch(
        reason: Annotated[str, typer.Option(help="kept in the audit log")] = "operator request",
    ) -> None:
        """Give the database a new sync epoch: every phone pushes again the events it kept (after
        restoring a backup by other means)."""
        settings = Settings()
        url = settings.effective_database_url
        migrate.upgrade(url)
        epoch = _or_exit(lambda: backups.new_epoch(url, reason=reason))
        Console().print(f"[green]New sync epoch[/] {epoch} ({_safe_url(settings)})")

    app.add_typer(db_app, name="db")


def _or_exit(action: Callable[[], T]) -> T:
    """Run it; a domain error (bad file, tool failed) is a message and exit status 1."""
    try:
        return action()
    except DomainError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc.message} ({exc.code})")
        raise typer.Exit(1) from exc


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.effective_database_url).render_as_string(hide_password=True)
