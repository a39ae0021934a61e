"""Real server processes (uvicorn, one worker) on a test database, for the tests that run two
of them side by side, or kill one in the middle of its work."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


class Server:
    """Started (and ready) when constructed; in its own process group, so that a signal
    reaches the whole server and nothing else."""

    def __init__(self, url: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("BWK_")}
        env.update(
            BWK_MODE="demo",
            BWK_DATABASE_URL=url,
            BWK_LOG_LEVEL="WARNING",
            BWK_PASSWORD_HASH_TIME_COST="1",
            BWK_PASSWORD_HASH_MEMORY_KIB="1024",
        )
        self.proc = subprocess.Popen(
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
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/health/ready", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        self.kill()
        raise AssertionError("server did not start")

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signum)

    def kill(self) -> None:
        """SIGKILL: no goodbye, nothing flushed, connections dropped by the kernel."""
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM: requests in flight finish, then the process exits."""
        self.signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


def token(base: str, username: str) -> str:
    response = httpx.post(
        f"{base}/auth/token",
        data={"grant_type": "password", "username": username, "password": "demo-password"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
