"""`recaudo serve`: migrate, then run the API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from server.db import migrate
from server.main import create_app
from server.settings import Settings


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    ) -> None:
        """Run the server (applies pending migrations first)."""
        run_server(Settings(), host, port)


def run_server(settings: Settings, host: str, port: int) -> None:
    migrate.upgrade(settings.effective_database_url)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
