"""self-scoring closed by its deadline: the Vietnam day the deadline locked the year by itself, so a reopening
by the administrator afterwards is not undone by the next check of the deadlines

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.add_column(sa.Column('self_scoring_closed_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assessment') as batch:
        batch.drop_column('self_scoring_closed_on')
