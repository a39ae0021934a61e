"""Real server processes for the tests that need them: a free port, the environment they run
in, waiting until they are ready, a Server (one uvicorn worker) that a test can kill, and
`bwk serve` with several workers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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


class Server:
    """Started (and ready) when constructed; in its own process group, so that a signal
    reaches the whole server and nothing else."""

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


@contextlib.contextmanager
def bwk_serve(
    url: str, metrics_dir: Path, workers: int | None = None, **env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`bwk serve` (with --workers when given), once every worker is up (each writes its
    gauges' file in `metrics_dir` when it imports the metrics) and the service is ready;
    SIGTERM to the whole group at the end. `env` adds settings (BWK_WORKERS, ...)."""
    port = free_port()
    expected = workers or int(env.get("BWK_WORKERS", "0"))
    assert expected, "say how many workers to wait for"
    bwk = str(Path(sys.executable).parent / "bwk")
    command = [bwk, "serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    proc = spawn(command, server_env(url, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), **env))
    base = f"http://127.0.0.1:{port}/api/v1"

    def all_workers_started() -> bool:
        assert proc.poll() is None, "bwk serve exited"
        return len(list(metrics_dir.glob("gauge_livesum_*.db"))) == expected

    try:
        if not wait_until_ready(base, 90, also=all_workers_started):
            raise AssertionError("bwk serve did not get ready")
        yield base, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def token(base: str, username: str) -> str:
    response = httpx.post(
        f"{base}/auth/token",
        data={"grant_type": "password", "username": username, "password": "demo-password"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
