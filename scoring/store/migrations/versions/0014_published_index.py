"""the published index stored at publication (total percent, band, areas and criteria as published), so that a
published figure is a record, not a recomputation that would change with the engine's code

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Years published before this revision get no record here: a migration must not run the scoring engine (its
    # code is today's, not the migration's). scoring.store.cycle_store.published_indexes fills each one, marked as
    # filled afterwards, the first time it is read.
    with op.batch_alter_table('assessment') as batch:
        batch.add_column(sa.Column('published_index', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.drop_column('published_index')
