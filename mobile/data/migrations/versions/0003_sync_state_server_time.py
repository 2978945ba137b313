# ruff: noqa: TID251 - migrations describe tables with sa.Column, as Alembic writes them
"""sync_state.server_time: the latest server clock reading seen (HTTP Date of a sync answer)

The 30-day retention of acknowledged outbox rows runs on the server's clock, not the phone's.
Only `sync_state` gains a nullable column (SQLite ALTER TABLE ADD COLUMN, no table copy); the
outbox is not touched.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mobile.data.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("server_time", mobile.data.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("server_time")
