"""department groups: the province's groups of departments (sở; ban, ngành…), ranked among themselves, each with
its own criteria set per year

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'department_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_department_group'),
        sa.UniqueConstraint('name', name='uq_department_group_name'),
    )
    op.create_table(
        'group_criteria_set',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('criteria_set_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['department_group.id'], name='fk_group_criteria_set_group_id_department_group',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['criteria_set_id'], ['criteria_set.id'], name='fk_group_criteria_set_criteria_set_id_criteria_set'),
        sa.PrimaryKeyConstraint('id', name='pk_group_criteria_set'),
        sa.UniqueConstraint('group_id', 'year', name='uq_group_criteria_set_group_id'),
    )
    op.create_index('ix_group_criteria_set_group_id', 'group_criteria_set', ['group_id'])
    with op.batch_alter_table('department') as batch:
        batch.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_department_group_id_department_group', 'department_group', ['group_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index('ix_department_group_id', ['group_id'])


def downgrade() -> None:
    with op.batch_alter_table('department') as batch:
        batch.drop_index('ix_department_group_id')
        batch.drop_constraint('fk_department_group_id_department_group', type_='foreignkey')
        batch.drop_column('group_id')
    op.drop_index('ix_group_criteria_set_group_id', table_name='group_criteria_set')
    op.drop_table('group_criteria_set')
    op.drop_table('department_group')
