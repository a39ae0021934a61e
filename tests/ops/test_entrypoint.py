"""docker/entrypoint.sh, run directly (no Docker here): wait for the database, migrate, serve."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from api import cpus
from tests import databases
from tests.servers import (
    entrypoint_env,
    free_port,
    kill_group,
    output,
    start_entrypoint,
    wait_until_ready,
)

UNREACHABLE = "postgresql+psycopg://postgres:not-a-real-password@127.0.0.1:1/none"

pytestmark = pytest.mark.postgres_only

databases.require_postgres_for_module()


def test_migrates_serves_and_stops_on_sigterm():
    name = f"bwk_entrypoint_{os.getpid()}"
    url = databases.fresh_postgres(name)
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = start_entrypoint(
            entrypoint_env(BWK_DATABASE_URL=url, PORT=str(port)), out=out, err=err
        )
        try:
            # migrate, then a worker per CPU, each importing the app: slow on a busy machine
            ready = wait_until_ready(base, 90, proc=proc)
            assert ready, f"exited ({proc.poll()}) or not ready in 90 s:\n{output(err)}"

            rooms = httpx.get(f"{base}/rooms", timeout=5)
            assert rooms.status_code == 200
            assert rooms.json()["items"] == []  # production seeds nothing
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                assert sa.inspect(conn).has_table("alembic_version")
                assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            engine.dispose()

            # exec'd: the process signalled below is the server itself, not a shell around it
            cmdline = Path(f"/proc/{proc.pid}/cmdline")
            if cmdline.exists():
                assert b"serve" in cmdline.read_bytes()

            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=25)
            # uvicorn shuts down gracefully, then re-raises SIGTERM to die by it (143 in Docker)
            assert code in (0, -signal.SIGTERM), output(err)
            assert "Application shutdown complete" in output(err) + output(out)
            # no BWK_WORKERS: a worker per CPU this process may use, migrated once before
            serving = [
                json.loads(line)
                for line in output(err).splitlines()
                if line.startswith("{") and '"serving"' in line
            ]
            assert [(s["workers"], s["per_cpu"]) for s in serving] == [(cpus.available(), True)]
            with pytest.raises(ProcessLookupError):  # nothing of the group is left running
                os.killpg(proc.pid, 0)
        finally:
            kill_group(proc)
            databases.drop_postgres(name)


def test_gives_up_on_an_unreachable_database():
    env = entrypoint_env(BWK_DATABASE_URL=UNREACHABLE, BWK_DB_WAIT_SECONDS="2")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = start_entrypoint(env, out=out, err=err)
        try:
            code = proc.wait(timeout=15)
            elapsed = time.monotonic() - started
        finally:
            kill_group(proc)
        stdout, stderr = output(out), output(err)
    assert code != 0
    assert 2 <= elapsed < 15  # it did wait, and no longer than bounded
    assert "database did not accept connections within 2 s" in stderr
    assert "Connection refused" in stderr  # the cause, not only the symptom
    assert "database at" not in stdout  # never got to migrate
    assert "not-a-real-password" not in stdout + stderr
    assert env["BWK_SECRET_KEY"] not in stdout + stderr


def test_runs_given_arguments_instead_of_serving():
    # The database is unreachable: a one-off command neither waits for it nor migrates.
    env = entrypoint_env(BWK_DATABASE_URL=UNREACHABLE, BWK_DB_WAIT_SECONDS="60")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = start_entrypoint(env, "bwk", "--help", out=out, err=err)
        try:
            code = proc.wait(timeout=15)
        finally:
            kill_group(proc)
        stdout, stderr = output(out), output(err)
    assert code == 0, stderr
    assert "migrate" in stdout
