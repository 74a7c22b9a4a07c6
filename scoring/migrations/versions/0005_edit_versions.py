"""edit versions: department, assessment and account rows carry the version a form expects, and who changed them last

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('department', 'assessment', 'account')


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
            batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
            batch_op.add_column(sa.Column('updated_by', sa.String(length=120), nullable=False, server_default=''))
        # rows stored before this revision were last changed, as far as anyone knows, when they were made
        table = sa.table(name, sa.column('created_at', sa.DateTime), sa.column('updated_at', sa.DateTime))
        op.execute(table.update().values(updated_at=table.c.created_at))
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('updated_at', existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    for name in reversed(TABLES):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('updated_by')
            batch_op.drop_column('updated_at')
            batch_op.drop_column('version')
