"""assessment room: a measurement belongs to the room that recorded it

Revision ID: 5c0a7e3d41b2
Revises: 9a65a5dd362e
Create Date: 2026-12-01 22:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '5c0a7e3d41b2'
down_revision: str | None = '9a65a5dd362e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room_id', sa.Integer(), nullable=True))
    # measurements taken before rooms were kept: the resident's home room's (the room that
    # sees them under the new rule anyway; another room that measured loses sight of them)
    op.execute(
        'UPDATE assessment SET room_id = '
        '(SELECT resident.home_room_id FROM resident WHERE resident.id = assessment.resident_id)'
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.alter_column('room_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_assessment_room_id_room'), 'room', ['room_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessment_room_id_room'), type_='foreignkey')
        batch_op.drop_column('room_id')
