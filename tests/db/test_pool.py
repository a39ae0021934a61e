"""The pool keeps its overflow connections while the load lasts, and closes them after."""

import asyncio
import contextlib

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import create_async_engine

from api import db
from api.db import MeteredPool, async_url


async def test_overflow_connections_stay_open_while_busy_and_close_after(app_settings, monkeypatch):
    engine = create_async_engine(
        async_url(app_settings.database_url), poolclass=MeteredPool, pool_size=2, max_overflow=2
    )
    opened = []
    event.listen(engine.sync_engine, "connect", lambda *_: opened.append(1))
    pool = engine.pool
    assert isinstance(pool, MeteredPool)

    async def busy() -> None:
        """Four requests at once: two beyond pool_size."""
        async with contextlib.AsyncExitStack() as held:
            for _ in range(4):
                conn = await held.enter_async_context(engine.connect())
                await conn.execute(text("SELECT 1"))
            assert pool.checkedout() == 4

    try:
        await busy()
        assert len(opened) == 4
        # returned: two kept in the pool, two overflow connections kept as spares
        assert pool.checkedout() == 0 and pool.checkedin() == 2
        await busy()
        assert len(opened) == 4  # SQLAlchemy's QueuePool would have opened two more

        # no more than pool_size in use for the linger time: the spares close
        monkeypatch.setattr(db, "OVERFLOW_LINGER_SECONDS", -1.0)
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        assert pool.checkedout() == 0
        await busy()
        assert len(opened) == 6
        assert pool.size() == 2 and pool.max_overflow == 2
    finally:
        await engine.dispose()


async def test_connections_go_to_requests_in_the_order_they_asked(app_settings):
    """A request that asks for a connection the moment one is handed back (a newcomer, ahead
    of the waiting requests in the event loop's turn) queues behind the requests already
    waiting: none waits twice, so none waits past its turn."""
    engine = create_async_engine(
        async_url(app_settings.database_url), poolclass=MeteredPool, pool_size=1, max_overflow=0
    )
    pool = engine.pool
    assert isinstance(pool, MeteredPool)
    served: list[object] = []

    async def ask(who: object) -> None:
        async with db.connected(engine) as conn:
            await conn.execute(text("SELECT 1"))
            served.append(who)

    async def newcomer() -> None:
        while pool.checkedout():  # noqa: ASYNC110 - the pool has no event to await
            await asyncio.sleep(0)
        await ask("newcomer")

    try:
        async with db.connected(engine):
            waiting = [asyncio.create_task(ask(n)) for n in range(5)]
            while pool.waiting < 5:  # noqa: ASYNC110 - the pool has no event to await
                await asyncio.sleep(0.01)
            late = asyncio.create_task(newcomer())
            await asyncio.sleep(0.01)
        await asyncio.gather(*waiting, late)
        assert served == [0, 1, 2, 3, 4, "newcomer"]
        assert pool.waiting == 0
    finally:
        await engine.dispose()


async def test_a_request_that_finds_no_connection_in_time_gives_up(app_settings):
    engine = create_async_engine(
        async_url(app_settings.database_url),
        poolclass=MeteredPool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.2,
    )
    pool = engine.pool
    assert isinstance(pool, MeteredPool)
    try:
        async with db.connected(engine):
            with pytest.raises(PoolTimeoutError):
                await db.connected(engine).__aenter__()
            assert pool.waiting == 0
        async with db.connected(engine) as conn:  # its place was given back
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_a_connection_goes_back_to_the_pool_closed_however_its_block_ended(app_settings):
    """After a read, a committed write, and a block left with its transaction open by an
    error, the one pooled connection is back in the pool with no transaction open."""
    engine = create_async_engine(
        async_url(app_settings.database_url), poolclass=MeteredPool, pool_size=1, max_overflow=0
    )
    pool = engine.pool
    assert isinstance(pool, MeteredPool)
    try:
        async with db.reading(engine) as conn:
            await conn.execute(text("SELECT 1"))
        async with db.transaction(engine) as conn:
            await conn.execute(text("SELECT 1"))

        async def fails_mid_transaction() -> None:
            async with db.connected(engine) as conn:
                await conn.begin()
                await conn.execute(text("SELECT 1"))
                raise RuntimeError("the request failed mid-transaction")

        with pytest.raises(RuntimeError):
            await fails_mid_transaction()
        assert pool.checkedout() == 0 and pool.checkedin() == 1
        async with db.connected(engine) as conn:
            assert not conn.in_transaction()
            if conn.dialect.name == "postgresql":
                status = await conn.exec_driver_sql("SELECT now() = statement_timestamp()")
                assert status.scalar_one() is True  # a transaction of its own: none was left
    finally:
        await engine.dispose()
