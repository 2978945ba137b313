"""append-only guards: the database refuses UPDATE and DELETE on audit_log and ledger_entry

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 20:00:00

Issue 8 asks for an audit log the API cannot alter, and the ledger is append-only by design (a
mistake is corrected by a reversing or adjusting entry, never by editing one). Nothing in the code
updates or deletes these rows (tests/server/test_audit_log.py proves it for every route); these
triggers make the database itself refuse, so neither a future bug nor a hand-written query can
rewrite history. PostgreSQL also refuses TRUNCATE. The demo starts from a new SQLite file and the
tests roll back or recreate their databases, so none of them deletes rows here.

A later migration that rebuilds one of these tables (SQLite's batch mode copies it and drops the
old one, triggers included) must create its triggers again: test_audit_log.py checks them at head.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("audit_log", "ledger_entry")
FUNCTION = "recaudo_refuse_change"


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'raise_exception';
            END
            $$
            """
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
        return
    for table in TABLES:
        for change in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{change.lower()} BEFORE {change} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {change} refused'); END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION {FUNCTION}()")
        return
    for table in TABLES:
        for change in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{change}")
