"""Liveness and readiness for load balancers."""

import asyncio
import contextlib

import httpx

from api.main import create_app
from api.settings import Mode, Settings
from tests.helpers import assert_problem


async def test_live_and_ready_when_the_database_answers(app, client):
    assert (await client.get("/health")).json() == {"status": "up"}
    pool = app.state.engine.pool
    assert (await client.get("/health/ready")).json() == {
        "status": "up",
        "database": "up",
        "pool": {"size": pool.size(), "maxOverflow": pool.max_overflow, "inUse": 0, "waiting": 0},
    }


async def test_not_ready_while_requests_wait_for_a_connection(app_settings):
    # on PostgreSQL a pool of 2 + 1; SQLite keeps SQLAlchemy's 5 + 10
    settings = app_settings.model_copy(
        update={"db_pool_size": 2, "db_max_overflow": 1, "db_pool_timeout": 30}
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        engine = application.state.engine
        pool = engine.pool
        capacity = pool.size() + pool.max_overflow
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
            async with contextlib.AsyncExitStack() as held:
                for _ in range(capacity):
                    await held.enter_async_context(engine.connect())

                async def wait_for_a_connection() -> None:
                    async with engine.connect():
                        pass

                waiter = asyncio.create_task(wait_for_a_connection())
                while pool.waiting == 0:  # noqa: ASYNC110 - the pool has no event to await
                    await asyncio.sleep(0.01)
                busy = await asyncio.wait_for(c.get("/health/ready"), 5)
                live = await c.get("/health")
                metrics = await asyncio.wait_for(c.get("/metrics"), 5)
            await waiter
            ready = await c.get("/health/ready")

    body = assert_problem(busy, 503)
    assert body["database"] == "up"
    assert body["pool"] == {
        "size": pool.size(),
        "maxOverflow": pool.max_overflow,
        "inUse": capacity,
        "waiting": 1,
    }
    assert busy.headers["Retry-After"]
    assert live.json() == {"status": "up"}
    # the scrape does not queue for a connection either: it answers with what it knows
    assert "\nbwk_db_pool_waiting 1.0\n" in metrics.text
    assert "bwk_webhook_outbox_backlog" not in metrics.text
    assert ready.status_code == 200
    assert ready.json()["pool"]["inUse"] == ready.json()["pool"]["waiting"] == 0


async def test_not_ready_when_the_database_is_unreachable():
    settings = Settings(
        mode=Mode.demo,
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/none",
        gc_tuning=False,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
            live = await c.get("/health")
            ready = await c.get("/health/ready")
            rooms = await c.get("/rooms")
    assert live.status_code == 200
    body = assert_problem(ready, 503)
    assert body["database"] == "down"
    assert "Retry-After" in ready.headers
    assert_problem(rooms, 503)
    assert "Retry-After" in rooms.headers
