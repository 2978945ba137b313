"""Alembic environment of the phone database; the URL comes from mobile.data.migrate."""

from __future__ import annotations

from pathlib import Path

from alembic import context
from sqlalchemy.engine import make_url

from mobile.data import models  # noqa: F401 - registers the tables on Base.metadata
from mobile.data.base import Base
from mobile.data.engine import make_engine

config = context.config


def run_migrations_online() -> None:
    url = make_url(config.attributes["url"])
    engine = make_engine(Path(str(url.database)))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported on the phone")
run_migrations_online()
