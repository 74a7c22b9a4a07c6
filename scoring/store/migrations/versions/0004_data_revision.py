"""data revision: one counter that every committed write moves on; criteria set content digests

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'data_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(table, [{'id': 1, 'revision': 0}])

    with op.batch_alter_table('criteria_set', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sa.String(length=64), nullable=False, server_default=''))
    # Sets already stored get the digest of their content. Any canonical form will do: a digest only has to
    # differ when the content differs.
    criteria_set = sa.table('criteria_set', sa.column('id', sa.Integer), sa.column('content', sa.JSON),
                            sa.column('digest', sa.String))
    connection = op.get_bind()
    for row in connection.execute(sa.select(criteria_set.c.id, criteria_set.c.content)).all():
        canonical = json.dumps(row.content, sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        connection.execute(criteria_set.update().where(criteria_set.c.id == row.id).values(digest=digest))


def downgrade() -> None:
    with op.batch_alter_table('criteria_set', schema=None) as batch_op:
        batch_op.drop_column('digest')
    op.drop_table('data_revision')
