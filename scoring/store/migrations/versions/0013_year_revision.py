"""a data revision per department-year (and one shared by what belongs to no department-year), so a page showing one
department's year reloads only when that year, or something every year shows, was written

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No rows yet: a department-year never written reads as 0 (scoring.store.revisions.read_revisions).
    op.create_table(
        'year_revision',
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('revision', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('department_id', 'year', name='pk_year_revision'),
    )


def downgrade() -> None:
    op.drop_table('year_revision')
