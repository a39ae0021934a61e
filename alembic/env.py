"""Alembic environment: the models' metadata, the URL from BWK_ settings."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Connection, create_engine, pool

import api.base
import api.models
from alembic import context
from api.db import ensure_sqlite_dir, sync_url
from api.settings import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = api.models.metadata


def _render_item(type_: str, obj: Any, _ctx: Any) -> str | Literal[False]:
    """Render the project's own column types by name (migrations import api.base)."""
    if type_ == "type":
        if isinstance(obj, api.base.UtcDateTime):
            return "api.base.UtcDateTime()"
        if isinstance(obj, sa.JSON) and "postgresql" in getattr(obj, "_variant_mapping", {}):
            return "api.base.JsonType"
    return False


# Replicas that start together take turns migrating (PostgreSQL), instead of racing.
MIGRATION_LOCK = 7_272_742


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=sync_url(get_settings().migration_url),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = sync_url(get_settings().migration_url)
    ensure_sqlite_dir(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            conn.commit()
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
