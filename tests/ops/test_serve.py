"""`bwk serve`: one worker per CPU unless BWK_WORKERS or --workers says otherwise, and
several workers serving as one."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from typer.testing import CliRunner

from api import cli, cpus, serving
from api.settings import Settings, get_settings
from tests import databases
from tests.conftest import BACKENDS
from tests.servers import bwk_serve, token


def test_the_setting_defaults_to_one_worker_per_cpu(monkeypatch):
    monkeypatch.delenv("BWK_WORKERS", raising=False)
    assert Settings().workers == 0
    monkeypatch.setenv("BWK_WORKERS", "3")
    assert Settings().workers == 3
    for wrong in ("-1", "many", "513"):
        monkeypatch.setenv("BWK_WORKERS", wrong)
        with pytest.raises(ValidationError, match="workers"):
            Settings()


@pytest.fixture
def served(monkeypatch, tmp_path) -> Iterator[list[uvicorn.Config]]:
    """`bwk serve` up to uvicorn, which records its settings instead of serving; this
    machine has 3 CPUs; SQLite, so that no database is asked about its connections."""
    calls: list[uvicorn.Config] = []
    monkeypatch.setattr(serving, "run", lambda config: calls.append(config) or True)
    monkeypatch.setattr(cpus, "available", lambda: 3)
    monkeypatch.setenv("BWK_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    for name in ("BWK_WORKERS", "BWK_MODE", "BWK_LOG_JSON", "BWK_EVENT_LOOP"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("setting", "option", "workers"),
    [
        (None, [], 3),  # nothing said: one per CPU
        ("0", [], 3),  # 0 says the same
        ("2", [], 2),  # the setting
        ("2", ["--workers", "1"], 1),  # the option beats the setting
        (None, ["--workers", "0"], 3),
    ],
)
def test_serve_takes_the_setting_the_option_or_the_cpus(
    served, monkeypatch, setting, option, workers
):
    if setting is not None:
        monkeypatch.setenv("BWK_WORKERS", setting)
    result = CliRunner().invoke(cli.app, ["serve", *option])
    assert result.exit_code == 0, result.output
    assert [call.workers for call in served] == [workers]


def test_serve_runs_the_event_loop_of_the_setting(served, monkeypatch):
    assert CliRunner().invoke(cli.app, ["serve", "--workers", "1"]).exit_code == 0
    monkeypatch.setenv("BWK_EVENT_LOOP", "uvloop")
    get_settings.cache_clear()
    assert CliRunner().invoke(cli.app, ["serve", "--workers", "2"]).exit_code == 0
    assert [(call.loop, call.workers) for call in served] == [("asyncio", 1), ("uvloop", 2)]


def test_the_socket_workers_share_answers_without_waiting_for_delayed_acks():
    """The connections asyncio accepts on the socket `bwk serve` binds for its workers have
    TCP_NODELAY set: an answer written in two parts (headers, body) leaves at once, not after
    the client's delayed ACK (40 ms on Linux)."""
    config = serving.TCPConfig("api.main:app", host="127.0.0.1", port=0, workers=2)

    async def accept_one() -> int:
        listening = config.bind_socket()
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection(*listening.getsockname()[:2])
            try:
                return await asyncio.wait_for(accepted, 10)
            finally:
                writer.close()

    assert asyncio.run(accept_one()) != 0


def test_serve_refuses_a_negative_option(served):
    result = CliRunner().invoke(cli.app, ["serve", "--workers", "-1"])
    assert result.exit_code == 2
    assert served == []


@pytest.mark.postgres_only
def test_serve_warns_when_the_workers_pools_exceed_max_connections(monkeypatch):
    databases.require_postgres_for_module()
    monkeypatch.setattr(serving, "run", lambda config: True)
    monkeypatch.setenv("BWK_DATABASE_URL", databases.POSTGRES_ADMIN_URL)
    monkeypatch.setenv("BWK_LOG_JSON", "true")
    monkeypatch.setenv("BWK_DB_POOL_SIZE", "200")
    monkeypatch.setenv("BWK_DB_MAX_OVERFLOW", "200")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["serve", "--workers", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    events = {line["event"]: line for line in lines}
    assert events["serving"]["workers"] == 1
    assert events["serving"]["db_connections_at_most"] == 400
    warning = events["workers_may_exhaust_the_database"]
    assert warning["level"] == "warning"
    assert 0 < warning["max_connections"] < 400


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_two_workers_answer_requests(backend, tmp_path):
    """BWK_WORKERS=2: the supervisor starts two workers, requests on fresh connections reach
    both, every write is acknowledged once, and SIGTERM stops the whole group."""
    db = databases.create(backend, "bwk_test_serve")
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    try:
        databases.migrate(db.engine)
        databases.seed_demo(db.engine)
        with bwk_serve(db.url, metrics_dir, BWK_WORKERS="2") as (base, proc):
            auth = {"Authorization": f"Bearer {token(base, 'volunteer.multibron')}"}
            yesterday = (date.today() - timedelta(days=1)).isoformat()

            def register(i: int) -> str:
                # a connection each: the kernel hands them to either worker
                response = httpx.post(
                    f"{base}/registrations",
                    headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                    json={
                        "room": "multibron",
                        "activity": "forms",
                        "headcount": 2,
                        "occurredOn": yesterday,
                    },
                    timeout=30,
                )
                assert response.status_code == 201, response.text
                return str(response.json()["id"])

            def rooms(_: int) -> int:
                return httpx.get(f"{base}/rooms", timeout=30).status_code

            with ThreadPoolExecutor(max_workers=8) as load:
                ids = list(load.map(register, range(40)))
                statuses = list(load.map(rooms, range(80)))
            assert statuses == [200] * 80
            assert len(set(ids)) == 40
            served_by = {p.stem.rsplit("_", 1)[1] for p in metrics_dir.glob("counter_*.db")}
            assert len(served_by) == 2, "only one worker served"
            listed = httpx.get(
                f"{base}/registrations", headers=auth, params={"limit": 100}, timeout=30
            ).json()["items"]
            assert set(ids) <= {item["id"] for item in listed}
        assert proc.returncode == 0  # SIGTERM: the workers finished, then the supervisor
        with pytest.raises(ProcessLookupError):  # nothing of the group is left, not even
            os.killpg(proc.pid, 0)  # multiprocessing's resource tracker
    finally:
        databases.dispose(db)


def test_a_serving_process_keeps_what_it_started_with_out_of_the_collectors_sight():
    """The lifespan of a served app (gc_tuning on, the default) freezes what was made to
    start it and collects the youngest objects less often, and puts both back when it ends;
    run in a process of its own."""
    script = (
        "import asyncio, gc\n"
        "from api.main import GC_THRESHOLDS, create_app\n"
        "from api.settings import Settings\n"
        "app = create_app(Settings(mode='demo', database_url='sqlite:///' + __import__("
        "'tempfile').mkdtemp() + '/x.db'))\n"
        "async def main():\n"
        "    async with app.router.lifespan_context(app):\n"
        "        assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()\n"
        "        assert gc.get_threshold() == GC_THRESHOLDS\n"
        "    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before\n"
        "before = gc.get_threshold()\n"
        "asyncio.run(main())\n"
        "print('tuned')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("tuned")
