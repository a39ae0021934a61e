"""live groups index: the services of anonymous groups without a scan of a year

Revision ID: 8d2e4f6a1b90
Revises: c4e9a1f27b3d
Create Date: 2026-12-02 09:15:00.000000

Residents' services come from the presence rollup's month counts (a resident's registration
counts 1, a check constraint); anonymous groups' headcounts are summed over this partial index.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8d2e4f6a1b90'
down_revision: str | None = 'c4e9a1f27b3d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = sa.text("voided_at IS NULL AND resident_id IS NULL")


def upgrade() -> None:
    op.create_index(
        'ix_registration_live_groups',
        'registration',
        ['occurred_on', 'room_id', 'activity_id', 'headcount'],
        unique=False,
        postgresql_where=_WHERE,
        sqlite_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index('ix_registration_live_groups', table_name='registration')
