"""Liveness and readiness for load balancers."""

import httpx

from api.main import create_app
from api.settings import Mode, Settings
from tests.helpers import assert_problem


async def test_live_and_ready_when_the_database_answers(client):
    assert (await client.get("/health")).json() == {"status": "up"}
    assert (await client.get("/health/ready")).json() == {"status": "up", "database": "up"}


async def test_not_ready_when_the_database_is_unreachable():
    settings = Settings(
        mode=Mode.demo, database_url="postgresql+psycopg://postgres@127.0.0.1:1/none"
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
