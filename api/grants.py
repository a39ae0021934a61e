"""What the application's database role may do (PostgreSQL), granted by `bwk migrate`.

The schema belongs to the owner that migrates (BWK_MIGRATE_DATABASE_URL); the API runs as a
role that owns nothing (the user of BWK_DATABASE_URL). Not being the owner, that role cannot
ALTER, DROP or TRUNCATE a table nor switch a trigger off; the grants below are all it has.
The audit trail gets SELECT and INSERT only: no UPDATE or DELETE, whatever the triggers do.

Every migrate takes all table privileges away from the role and grants them afresh, so a
table added by a migration is covered and nothing granted by hand outlives the next migrate.
SQLite has no roles: the demo file is the application's own.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from api.audit.models import AuditEvent

# what the code does: reads and writes rows; nothing on the schema itself
READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"
PRIVILEGES = {
    str(AuditEvent.__tablename__): "SELECT, INSERT",  # append-only
    "alembic_version": "SELECT",  # the schema's version is read, never written
}


def application_role(database_url: str) -> str | None:
    """The role the API connects as: the user of its URL (None for SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.username


def statements(role: str, tables: list[str]) -> list[str]:
    """The grants for `role` on these tables, from nothing: one statement each, names quoted."""
    who = _quote(role)
    out = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {who}",
        f"GRANT USAGE ON SCHEMA public TO {who}",
    ]
    for name in sorted(tables):
        allowed = PRIVILEGES.get(name, READ_WRITE)
        out.append(f"GRANT {allowed} ON {_quote(name)} TO {who}")
    # serial ids (rooms, activities, partners, login failures): nextval needs USAGE
    out.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {who}")
    return out


def grant(conn: Connection, role: str) -> bool:
    """Grant `role` what the application needs; False when `role` is the one migrating (the
    owner, who needs no grants and can alter everything)."""
    if role == conn.execute(text("SELECT current_user")).scalar():
        return False
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists is None:
        raise LookupError(f"there is no database role {role!r} to grant to; create it first")
    tables = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ).scalars()
    for statement in statements(role, list(tables)):
        conn.execute(text(statement))
    return True


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
