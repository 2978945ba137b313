"""Alembic environment: the URL comes from the caller (server.db.migrate) or from Settings."""

from __future__ import annotations

from alembic import context

from server.db import models  # noqa: F401 - registers the tables on Base.metadata
from server.db.base import Base
from server.db.engine import make_engine
from server.settings import Settings

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("url") or Settings().effective_database_url
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `recaudo db upgrade`")
run_migrations_online()
