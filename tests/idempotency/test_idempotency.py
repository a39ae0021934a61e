"""An Idempotency-Key is claimed by the write's own transaction: a request with the key that is
still running holds it, one that ended (committed or rolled back) leaves it answered or free.

Here another session of the database plays the request that holds the key; the two-process
and SIGKILL tests (tests/ops/test_replicas.py, test_process_faults.py) do the same with servers."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

import api.models
from api.base import utcnow
from api.idempotency.service import fingerprint
from api.main import create_app
from tests import databases
from tests.helpers import assert_problem, headers_for

RECORDS = api.models.metadata.tables["idempotency_record"]
BODY = {
    "room": "multibron",
    "activity": "forms",
    "occurredOn": (date.today() - timedelta(days=1)).isoformat(),
    "headcount": 2,
    "note": "held",
}


def _subject(db, username: str) -> str:
    users = api.models.metadata.tables["user_account"]
    with db.engine.connect() as conn:
        user_id = conn.execute(
            sa.select(users.c.id).where(users.c.username == username)
        ).scalar_one()
    return f"user:{user_id}"


@contextlib.contextmanager
def held_key(db, key: str) -> Iterator[sa.Connection]:
    """A request that is still running with the key: its transaction has claimed the key and
    has not ended yet (on SQLite it holds the database's write lock, as a writer does)."""
    conn = db.engine.connect()
    now = utcnow()
    conn.execute(
        RECORDS.insert().values(
            subject=_subject(db, "volunteer.multibron"),
            key=key,
            fingerprint=fingerprint("POST", "/api/v1/registrations", BODY),
            created_at=now,
            expires_at=now + timedelta(hours=24),
        )
    )
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


async def test_a_retry_waits_for_the_request_with_its_key_and_proceeds_when_that_rolls_back(
    client, db
):
    key = "held-" + uuid.uuid4().hex
    headers = {**await headers_for(client, "volunteer.multibron"), "Idempotency-Key": key}
    with held_key(db, key) as first:
        started = time.monotonic()
        retry = asyncio.create_task(client.post("/registrations", headers=headers, json=BODY))
        await asyncio.sleep(0.6)
        assert not retry.done()  # it waits for the first: neither a 409 nor a second write
        first.rollback()  # the first request failed: its claim goes with its transaction
        response = await retry
    assert time.monotonic() - started >= 0.5
    assert response.status_code == 201, response.text
    assert "Idempotent-Replayed" not in response.headers
    assert databases.registrations_with_note(db, "held") == 1


@pytest.mark.slow
async def test_a_request_still_running_past_the_timeout_gets_a_retry_after(db, app_settings):
    key = "held-" + uuid.uuid4().hex
    settings = app_settings.model_copy(update={"db_statement_timeout_ms": 400})
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
            headers = {**await headers_for(c, "volunteer.multibron"), "Idempotency-Key": key}
            with held_key(db, key):
                started = time.monotonic()
                response = await c.post("/registrations", headers=headers, json=BODY)
                waited = time.monotonic() - started
    # PostgreSQL: the key's lock outlasts the lock timeout, so the first is still running;
    # SQLite: its busy timeout (5 s) ends any write the locked database holds up
    assert_problem(response, 409 if db.backend == "postgresql" else 503)
    assert response.headers["Retry-After"]
    assert waited < 7
    assert databases.registrations_with_note(db, "held") == 0


@pytest.mark.parametrize("left", ["expired", "without an answer"])
async def test_a_key_whose_record_expired_or_was_never_answered_is_used_afresh(client, db, left):
    headers = {
        **await headers_for(client, "volunteer.multibron"),
        "Idempotency-Key": "again-" + uuid.uuid4().hex,
    }
    first = await client.post("/registrations", headers=headers, json=BODY)
    assert first.status_code == 201
    with db.engine.begin() as conn:
        conn.execute(
            RECORDS.update()
            .where(RECORDS.c.key == headers["Idempotency-Key"])
            .values(
                expires_at=utcnow() - timedelta(seconds=1)
                if left == "expired"
                else utcnow() + timedelta(hours=1),
                status_code=201 if left == "expired" else None,
            )
        )
    again = await client.post("/registrations", headers=headers, json={**BODY, "headcount": 3})
    assert again.status_code == 201, again.text
    assert "Idempotent-Replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    replayed = await client.post("/registrations", headers=headers, json={**BODY, "headcount": 3})
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == again.json()["id"]
