"""change log for sync pull

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('change_log',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('entity', sa.String(length=16), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('op', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.CheckConstraint("op IN ('put', 'remove')", name=op.f('ck_change_log_op')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_change_log_user_id_app_user')),
    sa.PrimaryKeyConstraint('user_id', 'entity', 'entity_id', name=op.f('pk_change_log'))
    )
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.create_index('ix_change_log_user_seq', ['user_id', 'seq'], unique=False)
    # Cursors below this seq are refused (resync_required) once old rows have been pruned.
    op.bulk_insert(sa.table('sync_counter', sa.column('name'), sa.column('value')),
                   [{'name': 'change_floor', 'value': 0}])


def downgrade() -> None:
    op.execute("DELETE FROM sync_counter WHERE name = 'change_floor'")
    with op.batch_alter_table('change_log', schema=None) as batch_op:
        batch_op.drop_index('ix_change_log_user_seq')
    op.drop_table('change_log')
