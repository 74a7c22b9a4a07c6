"""edit versions: department and account rows, and an assessment's settings, carry the version a form expects, and who changed them last

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# table: the prefix of its version columns ("" for the row as a whole)
TABLES = (('department', ''), ('assessment', 'settings_'), ('account', ''))


def upgrade() -> None:
    for name, prefix in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column(f'{prefix}version', sa.Integer(), nullable=False, server_default='1'))
            batch_op.add_column(sa.Column(f'{prefix}updated_at', sa.DateTime(), nullable=True))
            batch_op.add_column(sa.Column(f'{prefix}updated_by', sa.String(length=120), nullable=False, server_default=''))
        # rows stored before this revision were last changed, as far as anyone knows, when they were made
        table = sa.table(name, sa.column('created_at', sa.DateTime), sa.column(f'{prefix}updated_at', sa.DateTime))
        op.execute(table.update().values({f'{prefix}updated_at': table.c.created_at}))
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column(f'{prefix}updated_at', existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    for name, prefix in reversed(TABLES):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column(f'{prefix}updated_by')
            batch_op.drop_column(f'{prefix}updated_at')
            batch_op.drop_column(f'{prefix}version')
