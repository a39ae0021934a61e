"""Two server processes on one database behave as one service: nothing that must hold across
requests (idempotency, revoked tokens, sign-in throttling) lives in a process's memory."""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from tests import databases
from tests.conftest import BACKENDS
from tests.servers import Server, token

# slow: two server processes on one database
pytestmark = pytest.mark.slow

Replicas = tuple[databases.TestDatabase, str, str]


@pytest.fixture(scope="module", params=BACKENDS)
def replicas(request: pytest.FixtureRequest) -> Iterator[Replicas]:
    db = databases.create(request.param, "bwk_test_replicas")
    servers: list[Server] = []
    try:
        databases.migrate(db.engine)
        databases.seed_demo(db.engine)
        servers += [Server(db.url), Server(db.url)]
        yield db, servers[0].base, servers[1].base
    finally:
        for server in servers:
            server.stop()
        databases.dispose(db)


def _registration(note: str) -> dict[str, object]:
    return {
        "room": "multibron",
        "activity": "forms",
        "headcount": 3,
        "occurredOn": (date.today() - timedelta(days=1)).isoformat(),
        "note": note,
    }


def test_a_retry_sent_to_the_other_process_gets_the_first_answer(replicas):
    _, one, two = replicas
    headers = {
        "Authorization": f"Bearer {token(one, 'volunteer.multibron')}",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    body = _registration("retried")
    first = httpx.post(f"{one}/registrations", headers=headers, json=body)
    retry = httpx.post(f"{two}/registrations", headers=headers, json=body)
    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_sent_to_both_processes_at_once_is_written_once(replicas):
    db, one, two = replicas
    headers = {
        "Authorization": f"Bearer {token(one, 'volunteer.multibron')}",
        "Idempotency-Key": "twice-" + uuid.uuid4().hex,
    }
    body = _registration("sent twice")
    with (
        concurrent.futures.ThreadPoolExecutor(2) as pool,
        databases.writes_held(db),  # both are under way before either can finish
    ):
        answers = [
            pool.submit(httpx.post, f"{base}/registrations", headers=headers, json=body, timeout=20)
            for base in (one, two)
        ]
        time.sleep(0.8)
        assert not any(a.done() for a in answers)  # the second waits for the first: no 409
    first, second = (a.result() for a in answers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in (first, second)) == [
        "",
        "true",
    ]
    assert databases.registrations_with_note(db, "sent twice") == 1


def _backend_waiting(db: databases.TestDatabase, statement: str, deadline: float) -> int:
    """The pid of the server's database session that waits on a lock in `statement`."""
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            pid = conn.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'bwk-api' "
                    "AND datname = current_database() AND wait_event_type = 'Lock' "
                    "AND query LIKE :statement"
                ),
                {"statement": statement + "%"},
            ).scalar()
        if pid is not None:
            return int(pid)
        time.sleep(0.05)
    raise AssertionError(f"no session waits in {statement}")


def test_when_the_first_request_dies_the_duplicate_on_the_other_process_does_the_write(replicas):
    db, one, two = replicas
    if db.backend != "postgresql":
        pytest.skip("cuts a server's database session: PostgreSQL")
    headers = {
        "Authorization": f"Bearer {token(one, 'volunteer.multibron')}",
        "Idempotency-Key": "lost-" + uuid.uuid4().hex,
    }
    body = _registration("first one lost")
    deadline = time.monotonic() + 10
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        with databases.writes_held(db):
            first = pool.submit(httpx.post, f"{one}/registrations", headers=headers, json=body)
            # the first has claimed the key and waits to write; the second waits for the key
            claimed = _backend_waiting(db, "INSERT INTO registration", deadline)
            second = pool.submit(
                httpx.post, f"{two}/registrations", headers=headers, json=body, timeout=20
            )
            _backend_waiting(db, "INSERT INTO idempotency_record", deadline)
            with db.engine.connect() as conn:  # the first's connection is cut
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": claimed})
            time.sleep(0.3)
        lost, done = first.result(), second.result()
    assert lost.status_code == 503
    assert done.status_code == 201
    assert "Idempotent-Replayed" not in done.headers
    assert databases.registrations_with_note(db, "first one lost") == 1


def test_a_token_revoked_at_one_process_is_refused_by_the_other(replicas):
    _, one, two = replicas
    headers = {"Authorization": f"Bearer {token(one, 'coordinator.multibron')}"}
    assert httpx.get(f"{two}/me", headers=headers).status_code == 200
    httpx.post(f"{one}/auth/revoke", headers=headers)
    assert httpx.get(f"{two}/me", headers=headers).status_code == 401


def test_ten_failed_sign_ins_spread_over_both_processes_are_throttled(replicas):
    _, one, two = replicas
    statuses = [
        httpx.post(
            f"{base}/auth/token",
            data={
                "grant_type": "password",
                "username": "volunteer.samen-sterk",
                "password": "wrong",
            },
        ).status_code
        for base in [one, two] * 5
    ]
    assert statuses[:5] == [400] * 5
    assert statuses[5:] == [429] * 5
