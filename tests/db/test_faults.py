"""Faults on PostgreSQL: dropped connections and locks give a 503 with Retry-After, never a
500, and the service recovers by itself."""

import asyncio
import time
import uuid
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

import api.models
from api.main import create_app
from tests import databases
from tests.helpers import assert_problem, headers_for

# slow: waits out database cuts, locks and timeouts (PostgreSQL only)
pytestmark = pytest.mark.slow


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


def _allow_connections(db, allow: bool) -> None:
    """Open or shut the database to new sessions; shutting it also ends the service's own."""
    name = make_url(db.url).database
    admin = sa.create_engine(databases.POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {allow}'))
            if not allow:
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = 'bwk-api' AND datname = :name"
                    ),
                    {"name": name},
                )
    finally:
        admin.dispose()


async def test_retries_through_a_3_second_database_cut_get_no_409_and_count_once(
    on_postgres, app_settings
):
    application = create_app(app_settings)
    day = (date.today() - timedelta(days=1)).isoformat()
    letters = str.maketrans("0123456789", "ghijklmnop")  # a note the BSN check cannot trip on
    answers: list[tuple[float, str, int]] = []  # (when, key, status) of every attempt
    cut: dict[str, float] = {}
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
            volunteer = await headers_for(c, "volunteer.multibron")

            async def desk() -> None:
                """Posts one registration after the other, each retried until it is done."""
                while "back" not in cut or time.monotonic() < cut["back"] + 1:
                    key = uuid.uuid4().hex.translate(letters)
                    while True:
                        response = await c.post(
                            "/registrations",
                            headers={**volunteer, "Idempotency-Key": key},
                            json={
                                "room": "multibron",
                                "activity": "forms",
                                "occurredOn": day,
                                "headcount": 1,
                                "note": key,
                            },
                        )
                        answers.append((time.monotonic(), key, response.status_code))
                        if response.status_code == 201:
                            break
                        await asyncio.sleep(0.05)

            async def outage() -> None:
                await asyncio.sleep(0.5)
                await asyncio.to_thread(_allow_connections, on_postgres, False)
                cut["at"] = time.monotonic()
                await asyncio.sleep(3)
                await asyncio.to_thread(_allow_connections, on_postgres, True)
                cut["back"] = time.monotonic()

            try:
                await asyncio.gather(outage(), *(desk() for _ in range(8)))
            finally:
                _allow_connections(on_postgres, True)
    statuses = {status for _, _, status in answers}
    assert 503 in statuses  # the cut was felt
    assert statuses <= {201, 503}  # and never as a 409: no key stays claimed by a failure
    pending = {key for when, key, status in answers if when < cut["back"] and status != 201}
    done = {key: when for when, key, status in answers if status == 201}
    assert pending
    assert all(done[key] - cut["back"] < 5 for key in pending)
    registrations = api.models.metadata.tables["registration"]
    records = api.models.metadata.tables["idempotency_record"]
    with on_postgres.engine.connect() as conn:
        counts = dict(
            conn.execute(
                sa.select(registrations.c.note, sa.func.count())
                .where(registrations.c.note.in_(list(done)))
                .group_by(registrations.c.note)
            ).all()
        )
        unanswered = conn.execute(
            sa.select(sa.func.count()).select_from(records).where(records.c.status_code.is_(None))
        ).scalar_one()
    assert counts == dict.fromkeys(done, 1)  # every write counted once, none lost
    assert unanswered == 0
