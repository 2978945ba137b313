# ruff: noqa: TID251 - migrations describe tables with sa.Column, as Alembic writes them
"""client mirror: the rest of a pull's client data (city, status, promises, visits)

Only the `client` table changes (the outbox is not touched); new columns carry server defaults
so rows mirrored before the upgrade stay valid until the next pull rewrites them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("city", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), server_default="active", nullable=False)
        )
        batch_op.add_column(
            sa.Column("promises", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("visits", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_column("visits")
        batch_op.drop_column("promises")
        batch_op.drop_column("status")
        batch_op.drop_column("city")
