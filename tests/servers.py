"""Real server processes for the tests that need them: a free port, the environment they run
in (`server_env`; `entrypoint_env` for the image's docker/entrypoint.sh), starting one in its
own process group and killing that group, waiting until it is ready, and a Server (one
uvicorn worker) that a test can kill, and `bwk serve` with several workers. Every test that
starts a process starts it here."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
Output = int | IO[bytes]


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


def entrypoint_env(**overrides: str) -> dict[str, str]:
    """The image's environment: this one without any BWK_ settings or PORT, with the venv's
    `bwk` and `python` first, production mode and a fresh secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BWK_")}
    env.pop("PORT", None)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(BWK_MODE="production", BWK_SECRET_KEY=secrets.token_urlsafe(36), **overrides)
    assert len(env["BWK_SECRET_KEY"]) == 48
    return env


def spawn(
    command: list[str],
    env: dict[str, str],
    out: Output = subprocess.DEVNULL,
    err: Output = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """In its own session, so that a test can signal it and all it started at once. Output
    to files, not pipes: a full pipe would block the server's logging."""
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True
    )


def start_entrypoint(
    env: dict[str, str], *args: str, out: IO[bytes], err: IO[bytes]
) -> subprocess.Popen[bytes]:
    return spawn(["sh", str(ENTRYPOINT), *args], env, out, err)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the process and all it started: no goodbye, nothing flushed."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def output(file: IO[bytes]) -> str:
    """What a spawned process wrote to `file` so far."""
    file.seek(0)
    return file.read().decode(errors="replace")


def wait_until_ready(
    base: str,
    seconds: float,
    also: Callable[[], bool] = lambda: True,
    proc: subprocess.Popen[bytes] | None = None,
) -> bool:
    """True once `base`/health/ready answers 200 (and `also` holds); False after `seconds`,
    or as soon as `proc` has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            if also() and httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
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
        kill_group(self.proc)

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
        if not wait_until_ready(base, 90, also=all_workers_started, proc=proc):
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
