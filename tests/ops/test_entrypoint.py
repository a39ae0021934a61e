"""docker/entrypoint.sh, run directly (no Docker here): wait for the database, migrate, serve."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import httpx
import pytest
import sqlalchemy as sa

from api import cpus
from tests import databases
from tests.servers import ROOT

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
UNREACHABLE = "postgresql+psycopg://postgres:not-a-real-password@127.0.0.1:1/none"

pytestmark = pytest.mark.postgres_only

databases.require_postgres_for_module()


def _env(**overrides: str) -> dict[str, str]:
    """This environment without any BWK_ settings, with the venv's `bwk` and `python` first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BWK_")}
    env.pop("PORT", None)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(BWK_MODE="production", BWK_SECRET_KEY=secrets.token_urlsafe(36), **overrides)
    assert len(env["BWK_SECRET_KEY"]) == 48
    return env


def _start(env: dict[str, str], *args: str, out: IO[bytes], err: IO[bytes]) -> subprocess.Popen:
    # Own session: the finally can kill whatever the script started, not only the script.
    return subprocess.Popen(
        ["sh", str(ENTRYPOINT), *args],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=err,
        start_new_session=True,
    )


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _text(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read().decode(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_migrates_serves_and_stops_on_sigterm():
    name = f"bwk_entrypoint_{os.getpid()}"
    url = databases.fresh_postgres(name)
    port = _free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    # Files, not pipes: a full pipe would block the server's logging.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = _start(_env(BWK_DATABASE_URL=url, PORT=str(port)), out=out, err=err)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, f"exited {proc.returncode}:\n{_text(err)}"
                assert time.monotonic() < deadline, f"not ready in 30 s:\n{_text(err)}"
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                        break
                time.sleep(0.2)

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
            assert code in (0, -signal.SIGTERM), _text(err)
            assert "Application shutdown complete" in _text(err) + _text(out)
            # no BWK_WORKERS: a worker per CPU this process may use, migrated once before
            serving = [
                json.loads(line)
                for line in _text(err).splitlines()
                if line.startswith("{") and '"serving"' in line
            ]
            assert [(s["workers"], s["per_cpu"]) for s in serving] == [(cpus.available(), True)]
            with pytest.raises(ProcessLookupError):  # nothing of the group is left running
                os.killpg(proc.pid, 0)
        finally:
            _kill_group(proc)
            databases.drop_postgres(name)


def test_gives_up_on_an_unreachable_database():
    env = _env(BWK_DATABASE_URL=UNREACHABLE, BWK_DB_WAIT_SECONDS="2")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = _start(env, out=out, err=err)
        try:
            code = proc.wait(timeout=15)
            elapsed = time.monotonic() - started
        finally:
            _kill_group(proc)
        stdout, stderr = _text(out), _text(err)
    assert code != 0
    assert 2 <= elapsed < 15  # it did wait, and no longer than bounded
    assert "database did not accept connections within 2 s" in stderr
    assert "Connection refused" in stderr  # the cause, not only the symptom
    assert "database at" not in stdout  # never got to migrate
    assert "not-a-real-password" not in stdout + stderr
    assert env["BWK_SECRET_KEY"] not in stdout + stderr


def test_runs_given_arguments_instead_of_serving():
    # The database is unreachable: a one-off command neither waits for it nor migrates.
    env = _env(BWK_DATABASE_URL=UNREACHABLE, BWK_DB_WAIT_SECONDS="60")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = _start(env, "bwk", "--help", out=out, err=err)
        try:
            code = proc.wait(timeout=15)
        finally:
            _kill_group(proc)
        stdout, stderr = _text(out), _text(err)
    assert code == 0, stderr
    assert "migrate" in stdout
