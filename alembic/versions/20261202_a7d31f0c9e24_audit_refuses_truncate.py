"""audit refuses truncate: TRUNCATE audit_event is refused like UPDATE and DELETE

Revision ID: a7d31f0c9e24
Revises: 3cde58cfcc03
Create Date: 2026-12-02 02:40:00.000000

PostgreSQL only. The row trigger of 89019c993896 refuses UPDATE and DELETE; TRUNCATE fires
no row triggers, so a statement trigger refuses it, with the same function and message.
(The owner could still drop the trigger: the API runs as a role that owns nothing, see
api/grants.py.) SQLite has no TRUNCATE, and the demo file is the application's own.
"""
from collections.abc import Sequence

from alembic import op


revision: str = 'a7d31f0c9e24'
down_revision: str | None = '3cde58cfcc03'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
