"""The pool keeps its overflow connections while the load lasts, and closes them after."""

import contextlib

from sqlalchemy import event, text
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
