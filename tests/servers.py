"""Real server processes for the tests that need them (PostgreSQL): a free port, the
environment they run in, and waiting until they are ready."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(url: str, **extra: str) -> dict[str, str]:
    """This process's environment without its BWK_ settings: demo mode on `url`, cheap
    password hashing, warnings only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BWK_")}
    env.update(
        BWK_MODE="demo",
        BWK_DATABASE_URL=url,
        BWK_LOG_LEVEL="WARNING",
        BWK_PASSWORD_HASH_TIME_COST="1",
        BWK_PASSWORD_HASH_MEMORY_KIB="1024",
        **extra,
    )
    return env


def spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """In its own session, so that a test can signal it and all its workers at once."""
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until_ready(base: str, seconds: float, also: Callable[[], bool] = lambda: True) -> bool:
    """True once `base`/health/ready answers 200 (and `also` holds), False after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if also() and httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return True
        time.sleep(0.1)
    return False
