"""idempotency claim in the write: no lock timer, the write's transaction holds the key

Revision ID: 3f1d2c8b9a47
Revises: d3b1e2a7c9f4
Create Date: 2026-12-02 02:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.base

revision: str = '3f1d2c8b9a47'
down_revision: str | None = 'd3b1e2a7c9f4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a row left without an answer (claimed under the old scheme) is taken over by the next
    # request with its key, so nothing else needs doing
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_column('locked_until')


def downgrade() -> None:
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', api.base.UtcDateTime(), nullable=True))
    op.execute('UPDATE idempotency_record SET locked_until = created_at')
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.alter_column(
            'locked_until', existing_type=api.base.UtcDateTime(), nullable=False
        )
