"""A read's connection commits each statement itself, and psycopg's autocommit that it
leaves on in the pool never leaks into a transaction: whatever begins on the same pooled
connection afterwards is one transaction again, rolled back as a whole."""

import asyncio

import pytest
from sqlalchemy import func, select, text

from api.db import Prepared, make_engine, reading, transaction, writing


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


# -- a write request's connection (api.db.writing) --------------------------------------


@pytest.fixture
def postgresql(app_settings):
    if not app_settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite's write requests run in `transaction`")


_PROBE = Prepared(select(func.count()).select_from(text("bwk_probe_reading")), reads=True)
_ADD = Prepared(text("INSERT INTO bwk_probe_reading (n) VALUES (:n)"))


async def _in_transaction(conn):
    """Whether PostgreSQL sees this connection in a transaction (now() is its start)."""
    return (await conn.exec_driver_sql("SELECT now() <> statement_timestamp()")).scalar_one()


async def test_a_write_requests_transaction_begins_at_its_first_write(postgresql, engine):
    async def refused_after_two_writes():
        async with writing(engine) as conn:
            await _PROBE.rows(conn, {})  # a read: no transaction yet
            assert not conn.in_transaction()
            await _ADD.run(conn, {"n": 1})  # the first write begins it
            assert conn.in_transaction()
            await _insert(conn, 2)
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await refused_after_two_writes()
    assert await _stored(engine) == []  # both rolled back together

    async with writing(engine) as conn:
        await _insert(conn, 3)  # SQLAlchemy's statement begins it too
        await _ADD.run(conn, {"n": 4}, alone=True)  # not alone any more: in the transaction
        await asyncio.sleep(0.01)
        assert await _in_transaction(conn)
    assert await _stored(engine) == [3, 4]


async def test_a_lone_write_commits_itself_and_the_request_sends_no_begin(postgresql, engine):
    async def refused_after_a_lone_write():
        async with writing(engine) as conn:
            await _PROBE.rows(conn, {})
            await _ADD.run(conn, {"n": 5}, alone=True)
            assert not conn.in_transaction()
            raise RuntimeError("a failure after the request's last statement")

    with pytest.raises(RuntimeError):
        await refused_after_a_lone_write()
    assert await _stored(engine) == [5]  # it committed itself, as it was told it could


async def test_nothing_may_follow_a_lone_write(postgresql, engine):
    """A statement after a write that committed itself would run outside any transaction
    with it: it is refused, so a route that adds one finds out in its first test."""

    async def a_write_after_a_lone_write():
        async with writing(engine) as conn:
            await _ADD.run(conn, {"n": 6}, alone=True)
            await _ADD.run(conn, {"n": 7})

    with pytest.raises(RuntimeError, match="not alone"):
        await a_write_after_a_lone_write()
    assert await _stored(engine) == [6]
