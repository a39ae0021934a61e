"""A read's connection commits each statement itself, and psycopg's autocommit that it
leaves on in the pool never leaks into a transaction: whatever begins on the same pooled
connection afterwards is one transaction again, rolled back as a whole."""

import pytest
from sqlalchemy import text

from api.db import make_engine, reading, transaction


@pytest.fixture
async def engine(app_settings):
    # one pooled connection, so every block below gets the one the previous block left
    made = make_engine(app_settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    async with made.begin() as conn:
        await conn.execute(text("CREATE TABLE bwk_probe_reading (n INTEGER NOT NULL)"))
    yield made
    async with made.begin() as conn:
        await conn.execute(text("DROP TABLE bwk_probe_reading"))
    await made.dispose()


async def _insert(conn, n):
    await conn.execute(text("INSERT INTO bwk_probe_reading (n) VALUES (:n)"), {"n": n})


async def _stored(engine):
    async with engine.connect() as conn:
        return sorted((await conn.execute(text("SELECT n FROM bwk_probe_reading"))).scalars())


async def _backend(conn):
    if conn.dialect.name != "postgresql":
        return None
    return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_a_read_commits_without_a_commit_and_a_transaction_after_it_rolls_back(engine):
    async with reading(engine) as conn:
        read_backend = await _backend(conn)
        await _insert(conn, 1)  # e.g. the audit event of a read: no COMMIT follows

    async def refused_after_two_inserts():
        async with transaction(engine) as conn:
            assert await _backend(conn) == read_backend  # the same pooled connection
            await _insert(conn, 2)
            await _insert(conn, 3)
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await refused_after_two_inserts()
    assert await _stored(engine) == [1]


async def test_an_automatic_begin_after_a_read_is_a_transaction(engine):
    async with reading(engine) as conn:
        await _insert(conn, 1)
    async with engine.connect() as conn:  # SQLAlchemy begins by itself
        await _insert(conn, 2)
        await conn.rollback()
    async with engine.connect() as conn:
        await _insert(conn, 3)  # closed without a commit: rolled back
    assert await _stored(engine) == [1]


async def test_a_read_after_a_transaction_commits_by_itself_again(engine):
    async with transaction(engine) as conn:
        await _insert(conn, 1)
    async with reading(engine) as conn:
        await _insert(conn, 2)
        if conn.dialect.name == "postgresql":
            raw = await conn.get_raw_connection()
            assert raw.driver_connection.autocommit
    async with reading(engine) as conn:
        await _insert(conn, 3)
    assert await _stored(engine) == [1, 2, 3]
