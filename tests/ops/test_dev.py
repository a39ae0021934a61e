"""`python3 dev.py demo`: the port and host chosen, and a busy port told before any work."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import ROOT, free_port, server_env, spawn, wait_until_ready


def _dev() -> Any:
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_busy_port_is_reported_before_anything_is_migrated(busy_port, tmp_path):
    database = tmp_path / "demo.db"
    result = subprocess.run(
        [sys.executable, "dev.py", "demo", "--port", str(busy_port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "BWK_DATABASE_URL": f"sqlite:///{database}"},
        check=False,
    )
    assert result.returncode != 0
    assert f"port {busy_port} on 127.0.0.1 is in use" in result.stderr
    assert "python3 dev.py demo --port " in result.stderr
    suggested = int(result.stderr.rsplit("--port ", 1)[1].split()[0])
    assert suggested != busy_port
    assert "+ " not in result.stdout  # nothing installed, migrated or seeded
    assert not database.exists()


def test_the_banner_and_the_server_use_the_port_and_host_given(monkeypatch, capsys):
    dev = _dev()
    port = free_port()
    ran: list[tuple[str, ...]] = []
    served: list[list[str]] = []
    monkeypatch.setattr(dev, "install", lambda lock: None)
    monkeypatch.setattr(dev, "run", lambda *args, env=None: ran.append(tuple(map(str, args))))
    monkeypatch.setattr(dev.os, "execve", lambda path, argv, env: served.append(argv))
    monkeypatch.setattr(dev.sys, "argv", ["dev.py", "demo", "--port", str(port), "--workers", "2"])
    dev.demo()
    out = capsys.readouterr().out
    assert f"http://127.0.0.1:{port}/api/v1/docs" in out
    assert f"http://127.0.0.1:{port}/api/v1/redoc" in out
    assert [a[1:] for a in ran] == [("migrate",), ("seed", "--demo")]
    assert served[0][1:] == ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]


def test_the_fast_suite_is_the_tests_not_marked_slow_on_sqlite(monkeypatch):
    dev = _dev()
    ran: list[tuple[tuple[str, ...], dict[str, str] | None]] = []
    monkeypatch.setattr(dev, "install", lambda lock: None)
    monkeypatch.setattr(dev, "audit", lambda: ran.append((("audit",), None)))
    monkeypatch.setattr(dev, "run", lambda *a, env=None: ran.append((tuple(map(str, a)), env)))
    monkeypatch.delenv("BWK_TEST_BACKENDS", raising=False)
    monkeypatch.setattr(dev.sys, "argv", ["dev.py", "test", "--fast", "tests/auth", "-x"])
    dev.test()
    [(command, env)] = ran  # neither the audit, nor lint, nor the type check
    assert command[1:] == ("-m", "pytest", "-m", "not slow", "tests/auth", "-x")
    assert env is not None and env["BWK_TEST_BACKENDS"] == "sqlite"
    ran.clear()
    monkeypatch.setattr(dev.sys, "argv", ["dev.py", "test", "-x"])
    dev.test()  # the whole suite, as CI runs it: both databases, lint and types first
    assert [c[0] for c, _ in ran] == [
        "audit",
        str(dev.BIN / "ruff"),
        str(dev.BIN / "ruff"),
        str(dev.BIN / "mypy"),
        str(dev.BIN / "python"),
    ]
    assert ran[-1] == ((str(dev.BIN / "python"), "-m", "pytest", "-x"), None)


@pytest.mark.slow
def test_a_served_demo_answers_on_its_port_with_a_relative_server_and_offline_docs(tmp_path):
    """`bwk serve` as dev.py runs it: the document's server is relative, the docs load from
    this host only, forwarded headers from loopback are not believed, huge headers get 431."""
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'demo.db'}", BWK_LOGIN_MAX_FAILURES_PER_ADDRESS="2")
    bwk = str(Path(sys.executable).with_name("bwk"))
    subprocess.run([bwk, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    subprocess.run([bwk, "seed"], env=env, check=True, capture_output=True, timeout=120)
    server = spawn([bwk, "serve", "--port", str(port)], env)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_until_ready(base, 30, proc=server)
        document = httpx.get(f"{base}/openapi.json").json()
        assert document["servers"] == [{"url": "/api/v1"}]
        for page in ("docs", "redoc"):
            response = httpx.get(f"{base}/{page}")
            assert response.status_code == 200
            assert "http" not in response.text.replace(base, "").split("<body>")[1]
        for i in range(2):
            httpx.post(
                f"{base}/auth/token",
                data={"grant_type": "password", "username": f"guess{i}", "password": "x"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
        refused = httpx.post(
            f"{base}/auth/token",
            data={"grant_type": "password", "username": "someone", "password": "x"},
            headers={"X-Forwarded-For": "203.0.113.99"},
        )
        assert refused.status_code == 429
        huge = httpx.get(f"{base}/rooms", headers={"X-Padding": "a" * 8 * 1024 * 1024})
        assert huge.status_code == 431
        assert huge.headers["content-type"] == "application/problem+json"
    finally:
        server.terminate()
        server.wait(timeout=30)
