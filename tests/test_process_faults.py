"""The server process dies or is stopped in the middle of writes (PostgreSQL)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import signal
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

import api.models
from tests import databases
from tests.servers import free_port, server_env, spawn, wait_until_ready

pytestmark = pytest.mark.postgres_only

databases.require_postgres_for_module()

DAY = (date.today() - timedelta(days=1)).isoformat()
HEX_TO_LETTERS = str.maketrans("0123456789", "ghijklmnop")


class Server:
    def __init__(self, url: str) -> None:
        self.port = free_port()
        self.proc = spawn(
            [
                str(Path(sys.executable).parent / "uvicorn"),
                "api.main:app",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--timeout-graceful-shutdown",
                "10",
            ],
            server_env(url),
        )
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        if not wait_until_ready(self.base, 30):
            raise AssertionError("server did not start")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def database():
    db = databases.create("postgresql", "bwk_test_process")
    try:
        databases.migrate(db.engine)
        databases.seed_demo(db.engine)
        yield db
    finally:
        databases.dispose(db)


def _wait_for_sessions_to_end(db) -> None:
    """The dead server's database sessions finish what it had sent (a COMMIT may still land)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            left = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bwk-api' "
                    "AND datname = current_database()"
                )
            ).scalar_one()
        if left == 0:
            return
        time.sleep(0.1)


def _token(base: str) -> str:
    return httpx.post(
        f"{base}/auth/token",
        data={
            "grant_type": "password",
            "username": "volunteer.multibron",
            "password": "demo-password",
        },
    ).json()["access_token"]


def test_sigkill_in_the_middle_of_writes_leaves_nothing_half_done(database):
    server = Server(database.url)
    token = _token(server.base)
    # letters only: a run of nine digits in a note may pass the BSN eleven-test and be refused
    keys = [uuid.uuid4().hex.translate(HEX_TO_LETTERS) for _ in range(60)]
    acknowledged: dict[str, str] = {}

    def post(key: str) -> int | None:
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.post(
                f"{server.base}/registrations",
                timeout=10,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                json={
                    "room": "multibron",
                    "activity": "forms",
                    "occurredOn": DAY,
                    "headcount": 1,
                    "note": key,
                },
            )
            if response.status_code == 201:
                acknowledged[key] = response.json()["id"]
            return response.status_code
        return None

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(post, key) for key in keys]
        time.sleep(0.3)
        os.killpg(server.proc.pid, signal.SIGKILL)  # mid-load, no goodbye
        concurrent.futures.wait(futures)
    server.proc.wait(timeout=10)
    records = api.models.metadata.tables["idempotency_record"]
    _wait_for_sessions_to_end(database)
    with database.engine.begin() as conn:
        # a claim of a killed request is taken over once its lock runs out: skip the wait
        conn.execute(
            records.update()
            .where(records.c.status_code.is_(None))
            .values(locked_until=sa.func.now())
        )
    server = Server(database.url)
    try:
        for key in keys:  # every client retries whatever it sent, until it has an answer
            for _ in range(20):
                if post(key) == 201:
                    break
                time.sleep(0.25)
    finally:
        server.stop()
    regs = api.models.metadata.tables["registration"]
    with database.engine.connect() as conn:
        stored = conn.execute(sa.select(regs.c.note, sa.func.count()).group_by(regs.c.note)).all()
        in_flight = conn.execute(
            sa.select(sa.func.count()).select_from(records).where(records.c.status_code.is_(None))
        ).scalar_one()
    counts = dict(stored)
    assert set(counts) == set(keys)  # every request has its one result now
    assert all(n == 1 for n in counts.values())  # and none was counted twice
    assert in_flight == 0


def test_sigterm_lets_a_request_in_flight_finish_and_refuses_new_ones(database):
    server = Server(database.url)
    token = _token(server.base)
    result: dict[str, int] = {}
    with database.engine.connect() as blocker:
        blocker.execute(sa.text("LOCK TABLE registration IN EXCLUSIVE MODE"))

        def slow_post() -> None:
            response = httpx.post(
                f"{server.base}/registrations",
                timeout=20,
                headers={"Authorization": f"Bearer {token}"},
                json={"room": "multibron", "activity": "forms", "occurredOn": DAY, "headcount": 2},
            )
            result["status"] = response.status_code

        thread = threading.Thread(target=slow_post)
        thread.start()
        time.sleep(0.5)  # the POST now waits for the lock
        os.killpg(server.proc.pid, signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{server.base}/rooms", timeout=2)
        blocker.rollback()  # the lock goes; the request in flight can finish
    thread.join(timeout=20)
    server.proc.wait(timeout=15)
    assert result["status"] == 201
