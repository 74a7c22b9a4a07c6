"""criteria mapping: which of last year's criteria became which of this year's, confirmed by a person, keyed by the
two criteria sets' content digests

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'criteria_mapping',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('from_digest', sa.String(length=64), nullable=False),
        sa.Column('to_digest', sa.String(length=64), nullable=False),
        sa.Column('links', sa.JSON(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_criteria_mapping'),
        sa.UniqueConstraint('from_digest', 'to_digest', name='uq_criteria_mapping_from_digest'),
    )


def downgrade() -> None:
    op.drop_table('criteria_mapping')
