"""`recaudo user add|list|disable|enable`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.services import users
from server.settings import Settings
from shared.errors import DomainError

T = TypeVar("T")


class Role(StrEnum):
    collector = "collector"
    supervisor = "supervisor"
    admin = "admin"


@contextmanager
def _session() -> Iterator[Session]:
    settings = Settings()
    url = settings.effective_database_url
    migrate.upgrade(url)  # a fresh install's first command is usually `user add`
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _run(action: Callable[[Session], T]) -> T:
    """Run one use case and commit it; a domain error becomes a message and exit status 1."""
    try:
        with _session() as session:
            result = action(session)
            session.commit()
            return result
    except DomainError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc.message} ({exc.code})")
        raise typer.Exit(1) from exc


def register(app: typer.Typer) -> None:
    user_app = typer.Typer(help="User accounts.", no_args_is_help=True)

    @user_app.command("add")
    def add(
        username: Annotated[str, typer.Argument(help="3-64 of a-z 0-9 . _ - (lowercased)")],
        role: Annotated[Role, typer.Option(help="What the user may do.")],
        password: Annotated[
            str,
            typer.Option(
                envvar="RECAUDO_PASSWORD",
                prompt=True,
                hide_input=True,
                confirmation_prompt=True,
                help="At least 8 characters; prompted for (twice, hidden) when not given.",
            ),
        ],
        full_name: Annotated[str, typer.Option(help="Shown on receipts and reports.")] = "",
    ) -> None:
        """Create a user."""
        user = _run(
            lambda s: users.create_user(
                s, username=username, role=role.value, password=password, full_name=full_name
            )
        )
        Console().print(f"[green]Created[/] {user.username} ({user.role})")

    @user_app.command("list")
    def list_() -> None:
        """List every user."""
        rows = _run(
            lambda s: [(u.username, u.role, u.full_name, u.active) for u in users.list_users(s)]
        )
        table = Table("username", "role", "full name", "active")
        for username, role, full_name, active in rows:
            table.add_row(username, role, full_name, "yes" if active else "no")
        Console().print(table)

    @user_app.command("disable")
    def disable(username: str) -> None:
        """Disable a user: their tokens and devices stop working at once."""
        _run(lambda s: users.set_active(s, username=username, active=False))
        Console().print(f"[yellow]Disabled[/] {username}")

    @user_app.command("enable")
    def enable(username: str) -> None:
        """Re-enable a disabled user."""
        _run(lambda s: users.set_active(s, username=username, active=True))
        Console().print(f"[green]Enabled[/] {username}")

    app.add_typer(user_app, name="user")
