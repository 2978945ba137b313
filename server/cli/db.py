"""`recaudo db upgrade`."""

from __future__ import annotations

import typer
from rich.console import Console

from server.db import migrate
from server.settings import Settings


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)

    @db_app.command("upgrade")
    def upgrade() -> None:
        """Apply the migrations to RECAUDO_DATABASE_URL (default: SQLite in the data dir)."""
        settings = Settings()
        migrate.upgrade(settings.effective_database_url)
        Console().print(f"[green]Database is up to date[/] ({_safe_url(settings)})")

    app.add_typer(db_app, name="db")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.effective_database_url).render_as_string(hide_password=True)
