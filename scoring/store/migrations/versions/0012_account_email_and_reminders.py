"""email reminders: an email address per account, and the reminders sent (one row per account and item, claimed
before the message is sent, so two processes never send the same reminder twice)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('account') as batch:
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=True))
    op.create_table(
        'reminder_sent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('item_key', sa.String(length=200), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_by', sa.String(length=64), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], name='fk_reminder_sent_account_id_account',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_reminder_sent'),
        sa.UniqueConstraint('account_id', 'item_key', name='uq_reminder_sent_account_id'),
    )
    op.create_index('ix_reminder_sent_sent_at', 'reminder_sent', ['sent_at'])


def downgrade() -> None:
    op.drop_index('ix_reminder_sent_sent_at', table_name='reminder_sent')
    op.drop_table('reminder_sent')
    with op.batch_alter_table('account') as batch:
        batch.drop_column('email')
