# ruff: noqa: TID251 - migrations describe tables with sa.Column, as Alembic writes them
"""Issue 7 on the phone: the client mirror's agreements, open disputes and legal flag, and the
cash handovers made on this phone

`client` gains three columns with server defaults (SQLite ADD COLUMN, no table copy) and
`cash_handover` is a new table; the outbox is not touched.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mobile.data.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("agreements", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("disputes", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("legal", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "cash_handover",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("bank_reference", sa.String(length=500), nullable=False),
        sa.Column("deposited_on", sa.Date(), nullable=False),
        sa.Column("amount", mobile.data.base.Money(), nullable=False),
        sa.Column("payment_event_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", mobile.data.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_cash_handover")),
    )


def downgrade() -> None:
    op.drop_table("cash_handover")
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_column("legal")
        batch_op.drop_column("disputes")
        batch_op.drop_column("agreements")
