"""department letterhead: the governing body printed above the department's name on official forms
("UBND TỈNH QUẢNG NINH") and the place of the date line ("Quảng Ninh, ngày … tháng … năm …")

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'  # the file 0007_sign_in_sessions.py
branch_labels = None
depends_on = None


def upgrade() -> None:
    # empty until someone sets them: the exports then leave the line to be filled in, never invent one
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('governing_body', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('place', sa.String(length=100), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_column('place')
        batch_op.drop_column('governing_body')
