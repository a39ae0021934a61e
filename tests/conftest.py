"""Fixtures: every test runs on SQLite and on PostgreSQL, from the same demo data.

`client` is the app in process; `volunteer`, `coordinator` (both of MultiBron),
`volunteer_samen_sterk`, `coordinator_samen_sterk`, `stadsdeel`, `admin` and `partner`
(MaDi) are the Authorization headers of those demo accounts, signed in on `client`;
`sync_client` is the same app for plain functions (hypothesis drives those), with
`sync_stadsdeel` its headers for the stadsdeel; `cli_env` points the `bwk` command at the
test database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from api.logging import configure as configure_logging
from api.main import create_app
from api.settings import Mode, Settings, get_settings
from tests import databases
from tests.databases import TestDatabase
from tests.helpers import DEMO_PASSWORD, bearer, headers_for

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
    # gc_tuning off: a test process makes and drops apps, and gc.freeze would keep their
    # garbage for good
    return Settings(
        mode=Mode.demo,
        database_url=db.url,
        log_json=True,
        gc_tuning=False,
        **databases.FAST_HASHING,
    )


# One app object per set of settings for the whole run: FastAPI works out each route's
# dependencies on an app's first requests, which for a new app per test was most of the
# suite's time. What a test may change lives in the database (put back after each test)
# and in the lifespan's engine (made anew for each test), not in the app object. Logging is
# set up again for each test, as create_app does, so that it writes where the test captures.
_APPS: dict[str, FastAPI] = {}


@pytest.fixture
async def app(app_settings: Settings) -> AsyncIterator[FastAPI]:
    key = repr([(k, getattr(v, "get_secret_value", lambda v=v: v)()) for k, v in app_settings])
    application = _APPS.get(key) or _APPS.setdefault(key, create_app(app_settings))
    configure_logging(json=app_settings.json_logs, level=app_settings.log_level)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
        yield c


@pytest.fixture
def sync_client(app_settings: Settings) -> Iterator[TestClient]:
    """A synchronous client on the same database, for plain (hypothesis-driven) functions."""
    with TestClient(create_app(app_settings), base_url="http://test") as c:
        yield c


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db: TestDatabase) -> Iterator[None]:
    """`bwk` commands run in this process against the test database."""
    monkeypatch.setenv("BWK_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# The demo accounts, signed in: Authorization headers for `client`.
Headers = dict[str, str]


def _signed_in(name: str, who: str) -> Any:
    """A fixture `name`: the headers of demo account `who`, signed in on `client`."""

    async def headers(client: httpx.AsyncClient) -> Headers:
        return await headers_for(client, who)

    headers.__doc__ = f"Authorization headers of {who}."
    return pytest.fixture(name=name)(headers)


volunteer = _signed_in("volunteer", "volunteer.multibron")
coordinator = _signed_in("coordinator", "coordinator.multibron")
volunteer_samen_sterk = _signed_in("volunteer_samen_sterk", "volunteer.samen-sterk")
coordinator_samen_sterk = _signed_in("coordinator_samen_sterk", "coordinator.samen-sterk")
stadsdeel = _signed_in("stadsdeel", "stadsdeel")
admin = _signed_in("admin", "admin")
partner = _signed_in("partner", "madi")  # MaDi's partner client


@pytest.fixture
def sync_stadsdeel(sync_client: TestClient) -> Headers:
    form = {"grant_type": "password", "username": "stadsdeel", "password": DEMO_PASSWORD}
    response = sync_client.post("/api/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])
