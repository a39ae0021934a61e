"""presence rollup: the figures' distinct counts of residents as plain counts

Revision ID: c4e9a1f27b3d
Revises: 6b2f0c1d8e53
Create Date: 2026-12-02 07:40:00.000000

The table `presence` (api/indicators/models.py), filled from the registrations there are,
and the triggers on registration that keep it in every writing transaction (statement
triggers over transition tables on PostgreSQL, row triggers on SQLite). The trigger SQL is
api/indicators/rollup.py's: a change to it needs a migration that drops and creates them.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from api.indicators import rollup

revision: str = 'c4e9a1f27b3d'
down_revision: str | None = '6b2f0c1d8e53'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('presence',
    sa.Column('year', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('activity_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('room_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('resident_id', sa.Uuid(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    *[sa.Column(m, sa.Integer(), nullable=False) for m in rollup.MONTHS],
    sa.PrimaryKeyConstraint(
        'year', 'activity_id', 'room_id', 'resident_id', name=op.f('pk_presence')
    )
    )
    dialect = op.get_bind().dialect.name
    for statement in rollup.rebuild_statements(dialect):
        op.execute(statement)
    for statement in rollup.create_triggers(dialect):
        op.execute(statement)


def downgrade() -> None:
    for statement in rollup.drop_triggers(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table('presence')
