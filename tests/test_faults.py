"""Faults on PostgreSQL: dropped connections and locks give a 503 with Retry-After, never a
500, and the service recovers by itself."""

import asyncio
import time

import httpx
import pytest
import sqlalchemy as sa

from api.main import create_app
from tests.helpers import assert_problem


@pytest.fixture
def on_postgres(db):
    if db.backend != "postgresql":
        pytest.skip("a PostgreSQL fault; the SQLite run has no server to fail")
    return db


async def test_dropped_connections_answer_503_then_recover_within_5_seconds(
    on_postgres, app_settings
):
    application = create_app(app_settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
            # warm the pool: several connections are open when they are all cut
            await asyncio.gather(*(c.get("/rooms") for _ in range(8)))
            with on_postgres.engine.connect() as admin:
                cut = admin.execute(
                    sa.text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = 'bwk-api' AND datname = current_database()"
                    )
                ).scalar_one()
            assert cut >= 1
            started, statuses = time.monotonic(), []
            while time.monotonic() - started < 5:
                response = await c.get("/rooms")
                statuses.append(response.status_code)
                if response.status_code == 503:
                    assert_problem(response, 503)
                    assert "Retry-After" in response.headers
                if statuses[-3:] == [200, 200, 200]:
                    break
    assert set(statuses) <= {200, 503}
    assert statuses[-3:] == [200, 200, 200]


async def test_a_query_blocked_by_a_lock_ends_in_a_503_at_the_timeout(on_postgres, app_settings):
    settings = app_settings.model_copy(update={"db_statement_timeout_ms": 300})
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
            with on_postgres.engine.connect() as other:
                other.execute(sa.text("LOCK TABLE room IN ACCESS EXCLUSIVE MODE"))
                started = time.monotonic()
                response = await c.get("/rooms")
                waited = time.monotonic() - started
                other.rollback()
            assert_problem(response, 503)
            assert "Retry-After" in response.headers
            assert waited < 3
            assert (await c.get("/rooms")).status_code == 200
