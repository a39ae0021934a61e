"""Hot statements on psycopg's prepared statements fail as SQLAlchemy's statements do, so
the error handlers answer alike (503 for a lost database, 400 for text it cannot store)."""

import pytest
from sqlalchemy import String, bindparam, select, text
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from api.db import MeteredPool, Prepared, async_url

_ECHO = Prepared(select(bindparam("value", type_=String)))


@pytest.fixture
async def engine(app_settings):
    made = create_async_engine(async_url(app_settings.database_url), poolclass=MeteredPool)
    yield made
    await made.dispose()


async def test_a_prepared_statement_answers_on_both_databases(engine):
    async with engine.connect() as conn:
        assert [tuple(r) for r in await _ECHO.rows(conn, {"value": "desk"})] == [("desk",)]


async def test_a_lost_connection_is_sqlalchemys_operational_error_and_leaves_the_pool(engine, db):
    if db.backend != "postgresql":
        pytest.skip("SQLite has no server to lose")
    async with engine.connect() as conn:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(OperationalError) as caught:
            await _ECHO.rows(conn, {"value": "desk"})
        assert caught.value.connection_invalidated
    async with engine.connect() as conn:  # a live connection, not the dead one
        assert [tuple(r) for r in await _ECHO.rows(conn, {"value": "again"})] == [("again",)]


async def test_text_the_database_cannot_store_is_sqlalchemys_data_error(engine, db):
    if db.backend != "postgresql":
        pytest.skip("SQLite stores NUL characters")
    async with engine.connect() as conn:
        with pytest.raises(DataError):
            await _ECHO.rows(conn, {"value": "a\x00b"})
