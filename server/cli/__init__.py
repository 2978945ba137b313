"""The `recaudo` command line (typer). Each module registers its own commands."""

from __future__ import annotations

import typer

from server.cli import db, demo, imports, plan_route, serve, users

app = typer.Typer(
    name="recaudo",
    help="Recaudo: offline-first field collections (server, ledger import, demo).",
    no_args_is_help=True,
    add_completion=False,
)
for module in (serve, db, users, imports, demo, plan_route):
    module.register(app)
