# ruff: noqa: TID251 - migrations describe tables with sa.Column, as Alembic writes them
"""sync_state.full_name (the collector's name for receipts) and route_plan (the chosen day routes)

`sync_state` gains a column with a server default (SQLite ADD COLUMN, no table copy); the outbox
is not touched.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mobile.data.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("full_name", sa.String(length=200), server_default="", nullable=False)
        )
    op.create_table(
        "route_plan",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("planned_at", mobile.data.base.UTCDateTime(), nullable=False),
        sa.Column("start_lat", sa.Float(), nullable=True),
        sa.Column("start_lon", sa.Float(), nullable=True),
        sa.Column("stops", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_route_plan")),
    )
    with op.batch_alter_table("route_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_route_plan_plan_date"), ["plan_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("route_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_route_plan_plan_date"))
    op.drop_table("route_plan")
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("full_name")
