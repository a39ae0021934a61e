"""budgets: budget lines, subsidy grants and the rooms they fund, staff per room

Revision ID: d3b1e2a7c9f4
Revises: a7d31f0c9e24
Create Date: 2026-12-02 02:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'd3b1e2a7c9f4'
down_revision: str | None = 'a7d31f0c9e24'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('budget_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=10), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_budget_line_amount_not_negative')),
    sa.CheckConstraint(
        "(kind = 'income' AND category IS NULL) OR "
        "(kind = 'cost' AND category IN ('staff', 'housing', 'other'))",
        name=op.f('ck_budget_line_kind_and_category'),
    ),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_budget_line_room_id_room')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_line'))
    )
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_line_year'), ['year'], unique=False)

    op.create_table('subsidy_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('grantor', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_subsidy_grant_amount_not_negative')),
    sa.CheckConstraint(
        "kind IN ('structural', 'incidental')", name=op.f('ck_subsidy_grant_kind_known')
    ),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidy_grant'))
    )
    with op.batch_alter_table('subsidy_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subsidy_grant_year'), ['year'], unique=False)

    op.create_table('subsidy_grant_room',
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(
        ['grant_id'], ['subsidy_grant.id'],
        name=op.f('fk_subsidy_grant_room_grant_id_subsidy_grant'), ondelete='CASCADE'
    ),
    sa.ForeignKeyConstraint(
        ['room_id'], ['room.id'], name=op.f('fk_subsidy_grant_room_room_id_room')
    ),
    sa.PrimaryKeyConstraint('grant_id', 'room_id', name=op.f('pk_subsidy_grant_room'))
    )
    op.create_table('staff_allocation',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('function', sa.String(length=60), nullable=False),
    sa.Column('fte_hundredths', sa.Integer(), nullable=False),
    sa.CheckConstraint(
        'fte_hundredths >= 0', name=op.f('ck_staff_allocation_fte_not_negative')
    ),
    sa.ForeignKeyConstraint(
        ['room_id'], ['room.id'], name=op.f('fk_staff_allocation_room_id_room')
    ),
    sa.PrimaryKeyConstraint('year', 'room_id', 'function', name=op.f('pk_staff_allocation'))
    )


def downgrade() -> None:
    op.drop_table('staff_allocation')
    op.drop_table('subsidy_grant_room')
    with op.batch_alter_table('subsidy_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subsidy_grant_year'))
    op.drop_table('subsidy_grant')
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_line_year'))
    op.drop_table('budget_line')
