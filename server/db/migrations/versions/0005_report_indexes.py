"""report indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:55:00

The reports that read every collector's visits of a period (the weekly counts, the flagged
visits, the effective contacts behind the commission bonus) filter on `visit.business_date`
alone; `ix_visit_user_date` leads with the user, so without this index PostgreSQL reads the whole
table (8 million visits: 2.8 s for one week, docs/benchmarks.md "Reports at scale"). Visits arrive
in time order, so a period's rows sit together on disk and a bitmap scan of this index reads
only their pages. Deduplicated (PostgreSQL 13+), it is small: 53 MB for 8 million visits.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_business_date', ['business_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_business_date')
