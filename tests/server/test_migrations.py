from __future__ import annotations

import sqlalchemy as sa

from server.db import migrate


def test_upgrade_from_empty_matches_models(db_url: str) -> None:
    # db_url was upgraded from an empty database by the fixture; alembic check finds no drift.
    migrate.check(db_url)
    engine = sa.create_engine(db_url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"client", "invoice", "ledger_entry", "ledger_allocation", "app_user"} <= tables
