"""sign-in sessions: one row per browser that signed in (only the SHA-256 digest of its cookie's token),
so a person stays signed in across reloads, tabs and server processes until sign-out or expiry

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_in_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_digest', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_why', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], name='fk_sign_in_session_account_id_account',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_sign_in_session'),
        sa.UniqueConstraint('token_digest', name='uq_sign_in_session_token_digest'),
    )
    op.create_index('ix_sign_in_session_account_id', 'sign_in_session', ['account_id'])


def downgrade() -> None:
    op.drop_index('ix_sign_in_session_account_id', table_name='sign_in_session')
    op.drop_table('sign_in_session')
