"""partner_assignment: a chain partner's assignment, published at /public/assignments

Revision ID: 6b2f0c1d8e53
Revises: 3f1d2c8b9a47
Create Date: 2026-12-02 03:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.base

revision: str = '6b2f0c1d8e53'
down_revision: str | None = '3f1d2c8b9a47'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('partner_assignment',
    sa.Column('partner_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('text', sa.String(length=4000), nullable=False),
    sa.Column('activities', api.base.JsonType, nullable=False),
    sa.Column('updated_at', api.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(
        ['partner_id'], ['partner.id'], name=op.f('fk_partner_assignment_partner_id_partner')
    ),
    sa.PrimaryKeyConstraint('partner_id', name=op.f('pk_partner_assignment'))
    )


def downgrade() -> None:
    op.drop_table('partner_assignment')
