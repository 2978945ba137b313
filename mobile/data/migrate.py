"""Run the phone's Alembic migrations from code at app startup (no alembic.ini on a phone)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session, sessionmaker

from mobile.data.engine import database_url, make_engine, make_session_factory

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(path: Path, script_location: Path = MIGRATIONS) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes["url"] = database_url(path)
    return cfg


def upgrade(path: Path, revision: str = "head", script_location: Path = MIGRATIONS) -> None:
    command.upgrade(alembic_config(path, script_location), revision)


def check(path: Path) -> None:
    """Raises if the models differ from the migrations (alembic check)."""
    command.check(alembic_config(path))


def open_database(path: Path) -> sessionmaker[Session]:
    """What the app does at startup: bring the schema to head, then hand out sessions."""
    upgrade(path)
    return make_session_factory(make_engine(path))
