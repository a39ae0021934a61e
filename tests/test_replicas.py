"""Two server processes on one database behave as one service: nothing that must hold across
requests (idempotency, revoked tokens, sign-in throttling) lives in a process's memory."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests import databases
from tests.servers import free_port, server_env, spawn, wait_until_ready

pytestmark = pytest.mark.postgres_only

databases.require_postgres_for_module()


@contextlib.contextmanager
def _server(url: str) -> Iterator[str]:
    port = free_port()
    proc = spawn(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "api.main:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        server_env(url),
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_until_ready(base, 30)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def replicas() -> Iterator[tuple[str, str]]:
    db = databases.create("postgresql", "bwk_test_replicas")
    try:
        databases.migrate(db.engine)
        databases.seed_demo(db.engine)
        with _server(db.url) as one, _server(db.url) as two:
            yield one, two
    finally:
        databases.dispose(db)


def _token(base: str, username: str) -> str:
    response = httpx.post(
        f"{base}/auth/token",
        data={"grant_type": "password", "username": username, "password": "demo-password"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_a_retry_sent_to_the_other_process_gets_the_first_answer(replicas):
    one, two = replicas
    headers = {
        "Authorization": f"Bearer {_token(one, 'volunteer.multibron')}",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    body = {
        "room": "multibron",
        "activity": "forms",
        "headcount": 3,
        "occurredOn": (date.today() - timedelta(days=1)).isoformat(),
    }
    first = httpx.post(f"{one}/registrations", headers=headers, json=body)
    retry = httpx.post(f"{two}/registrations", headers=headers, json=body)
    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_a_token_revoked_at_one_process_is_refused_by_the_other(replicas):
    one, two = replicas
    token = _token(one, "coordinator.multibron")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{two}/me", headers=headers).status_code == 200
    httpx.post(f"{one}/auth/revoke", headers=headers)
    assert httpx.get(f"{two}/me", headers=headers).status_code == 401


def test_ten_failed_sign_ins_spread_over_both_processes_are_throttled(replicas):
    one, two = replicas
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
