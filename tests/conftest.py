"""Fixtures: every test runs on SQLite and on PostgreSQL, from the same demo data."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from api.main import create_app
from api.settings import Mode, Settings, get_settings
from tests import databases
from tests.databases import TestDatabase

settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("default")

BACKENDS = [b for b in os.environ.get("BWK_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    db = databases.create(request.param)
    databases.migrate(db.engine)
    databases.seed_demo(db.engine)
    db.take_snapshot()
    yield db
    databases.dispose(db)


@pytest.fixture
def db(database: TestDatabase) -> Iterator[TestDatabase]:
    yield database
    database.restore()


@pytest.fixture
def app_settings(db: TestDatabase) -> Settings:
    return Settings(mode=Mode.demo, database_url=db.url, log_json=True, **databases.FAST_HASHING)


@pytest.fixture
async def app(app_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(app_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
        yield c


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db: TestDatabase) -> Iterator[None]:
    """`bwk` commands run against the test database."""
    monkeypatch.setenv("BWK_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
