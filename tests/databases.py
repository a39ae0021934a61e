"""Test databases: a fresh SQLite file and a fresh PostgreSQL database per run.

Each backend is migrated and seeded once; after every test the tables are put back to
that snapshot, so every test starts from the same demo data.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

import api.models
from alembic import command
from api import seed
from api.cli import alembic_config
from api.indicators import rollup
from api.settings import Settings, get_settings

POSTGRES_ADMIN_URL = os.environ.get(
    "BWK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@dataclass
class TestDatabase:
    backend: str
    url: str
    engine: Engine
    snapshot: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def take_snapshot(self) -> None:
        with self.engine.connect() as conn:
            self.snapshot = {
                t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))]
                for t in api.models.metadata.sorted_tables
            }

    def restore(self) -> None:
        tables = api.models.metadata.sorted_tables
        with self.engine.begin() as conn:
            if self.backend == "postgresql":
                # the audit trail refuses TRUNCATE (a trigger); a test database may be put
                # back: replica mode skips triggers for this transaction (superuser only)
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(sa.text(f"TRUNCATE {names} CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())
            for table in tables:
                # the rollup is made from the registrations put back (replica mode skipped
                # its triggers; on SQLite they fired on every row deleted and inserted)
                if table.name != "presence" and (rows := self.snapshot[table.name]):
                    conn.execute(table.insert(), rows)
            rollup.rebuild_sync(conn)


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    config = alembic_config(get_settings())
    config.attributes["configure_logger"] = False
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def check_no_drift(engine: Engine) -> None:
    config = alembic_config(get_settings())
    config.attributes["configure_logger"] = False
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.check(config)


# Argon2 at its lowest cost: the tests sign in hundreds of times.
FAST_HASHING = {"password_hash_time_cost": 1, "password_hash_memory_kib": 1024}


def seed_demo(engine: Engine) -> None:
    with engine.begin() as conn:
        seed.seed_reference(conn)
        seed.seed_targets(conn)
        seed.seed_budgets(conn)
        seed.seed_demo_accounts(conn, Settings(**FAST_HASHING))


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def fresh_postgres(name: str) -> str:
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres(name: str) -> None:
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_sqlite(name: str) -> str:
    folder = Path(tempfile.mkdtemp(prefix="bwk-test-"))
    return f"sqlite:///{folder / name}.db"


def create(backend: str, name: str = "bwk_test") -> TestDatabase:
    if backend == "postgresql":
        reason = postgres_available()
        if reason:
            message = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({reason})"
            if IN_CI:
                pytest.fail(f"{message}; CI must test on PostgreSQL", pytrace=False)
            pytest.skip(f"SKIPPED POSTGRESQL: {message}")
        url = fresh_postgres(f"{name}_{os.getpid()}")
    else:
        url = fresh_sqlite(name)
    engine = sa.create_engine(url)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_fk)
    return TestDatabase(backend=backend, url=url, engine=engine)


def dispose(db: TestDatabase) -> None:
    db.engine.dispose()
    if db.backend == "postgresql":
        drop_postgres(make_url(db.url).database or "")


def _sqlite_fk(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA foreign_keys=ON")


def require_postgres_for_module() -> None:
    """For modules that only make sense on PostgreSQL: skip them without it, but fail in CI,
    which must test on PostgreSQL."""
    reason = postgres_available()
    if reason:
        message = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({reason})"
        if IN_CI:
            pytest.fail(f"{message}; CI must test on PostgreSQL", pytrace=False)
        pytest.skip(f"SKIPPED POSTGRESQL: {message}", allow_module_level=True)


@contextlib.contextmanager
def writes_held(db: TestDatabase) -> Iterator[None]:
    """Hold up new registrations, as another long transaction would: on PostgreSQL a lock on
    the registration table, on SQLite the database's one write lock."""
    with db.engine.connect() as conn:
        if db.backend == "postgresql":
            conn.execute(sa.text("LOCK TABLE registration IN EXCLUSIVE MODE"))
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.rollback()


def registrations_with_note(db: TestDatabase, note: str) -> int:
    registrations = api.models.metadata.tables["registration"]
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(registrations)
                .where(registrations.c.note == note)
            ).scalar_one()
        )
