"""Migrations: the models and the migrations never drift; PostgreSQL goes down and up."""

import pytest
import sqlalchemy as sa

import api.models
from tests import databases


def test_migrations_build_every_table_the_models_define(db):
    tables = set(sa.inspect(db.engine).get_table_names())
    assert set(api.models.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_do_not_drift(db):
    # alembic check: autogenerate finds nothing to do
    databases.check_no_drift(db.engine)


def test_constraint_names_follow_the_naming_convention(db):
    inspector = sa.inspect(db.engine)
    for table in api.models.metadata.tables:
        for fk in inspector.get_foreign_keys(table):
            if db.backend == "postgresql":
                assert fk["name"].startswith(f"fk_{table}_"), fk


@pytest.mark.slow
def test_postgresql_downgrades_to_empty_and_upgrades_again():
    db = databases.create("postgresql", "bwk_test_migrations")
    try:
        databases.migrate(db.engine)
        databases.migrate(db.engine, "base", down=True)
        left = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        databases.migrate(db.engine)
        databases.check_no_drift(db.engine)
    finally:
        databases.dispose(db)


@pytest.mark.slow
def test_the_audit_trail_cannot_be_changed_on_postgresql():
    db = databases.create("postgresql", "bwk_test_audit")
    try:
        databases.migrate(db.engine)
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO audit_event (id, at, actor_kind, action, details) "
                    "VALUES (gen_random_uuid(), now(), 'anonymous', 'test', '{}')"
                )
            )
        for statement in (
            "UPDATE audit_event SET action = 'x'",
            "DELETE FROM audit_event",
            "TRUNCATE audit_event",
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
                conn.execute(sa.text(statement))
    finally:
        databases.dispose(db)
