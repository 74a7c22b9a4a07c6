"""appraisal authorship and the cycle's state: who entered the bonus and penalty (and their version), rounds
opened outside their dates, publication of the index

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Per-criterion authorship lives in score.appraisal (JSON), which needs no new column.
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bonus_penalty_author', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('bonus_penalty_version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('round_overrides', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('published_by', sa.String(length=120), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_column('published_by')
        batch_op.drop_column('published_at')
        batch_op.drop_column('round_overrides')
        batch_op.drop_column('bonus_penalty_version')
        batch_op.drop_column('bonus_penalty_author')
