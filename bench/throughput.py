"""Requests per second of the API under wrk, next to a bare FastAPI app as the ceiling.

    .venv/bin/python bench/throughput.py [--duration 10] [--connections 32] [--workers 1,2]
        [--only TEXT] [--profile DIR] [--database-url URL]

Makes a fresh PostgreSQL database (`bwk_bench` on the server of --database-url, an admin
URL), migrates it and loads the demo data, then, for each worker count of --workers (1 and
2 by default), starts one server at a time with `--workers N` (the bare app with uvicorn's
command line on uvloop, the service with `bwk serve` on the event loop of BWK_EVENT_LOOP;
both httptools, no access log) and runs wrk against each of its targets after a short
warm-up (and an ANALYZE, as autovacuum would after the writes of the targets before; then a
pause of DRAIN_SECONDS, for the server to answer the requests the warm-up left in flight):

- bare: bench/bare_app.py, one `async def` endpoint returning a small dict (the ceiling);
- the service, `bwk serve`, with BWK_LOG_LEVEL=WARNING, so its per-request access line
  (logged at INFO) is filtered out.

Prints a table with the worker counts side by side (req/s, share of the bare endpoint with
as many workers, p50, p99, errors) and writes the same figures to
bench/results/throughput-<unix time>.json. Installs wrk with apt-get if missing.

--only runs the targets whose name holds TEXT (and the bare one, the 100 %). --profile DIR
samples the one-worker service with py-spy during each measured run (py-spy must be
installed: `pip install py-spy`) and writes DIR/<target>.txt (collapsed stacks) and a
summary of the hottest functions and libraries; a profiled run is slower, so its figures
are not the ones to report.

More targets: add a Target to TARGETS. One with a wrk Lua script (`script=`) can send a
POST with a body; its Bearer token still comes from `account=` through `-H`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"
PREFIX = "/api/v1"
SERVICE_LOG_LEVEL = "WARNING"
READY_SECONDS = 30.0
STOP_SECONDS = 15.0

# Demo accounts made by `bwk seed --demo` (published passwords, demo mode only).
DRAIN_SECONDS = 1.5
ACCOUNTS = {"volunteer": ("volunteer.multibron", "demo-password")}


class BenchError(Exception):
    """A step failed; the message says which and why."""


@dataclass(frozen=True)
class Server:
    name: str
    command: tuple[str, ...]  # serves on --host HOST --port <port> --workers <n> added to it
    ready_path: str  # answers 200 once the server (and its database) is ready
    env: dict[str, str] = field(default_factory=dict)
    note: str = ""
    loop: str = "uvloop"


@dataclass(frozen=True)
class Target:
    name: str
    server: str  # a Server's name
    path: str
    account: str | None = None  # a key of ACCOUNTS: sends "Authorization: Bearer <token>"
    script: Path | None = None  # a wrk Lua script (method, body, more headers)
    headers: tuple[str, ...] = ()  # more "Name: value" headers for wrk's -H
    expect: int = 200  # the status of one GET before the run; skipped for scripted targets
    connections: int | None = None  # overrides --connections (the 256-connection run)


SERVERS = [
    Server(
        name="bare",
        # uvicorn's own command line: httptools, no access log, uvloop
        command=(
            str(BIN / "uvicorn"),
            "bare_app:app",
            "--app-dir",
            str(BENCH),
            "--no-access-log",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
        ),
        ready_path="/ping",
        note="bench/bare_app.py: FastAPI, one async endpoint, nothing else; uvicorn's command "
        "line, uvloop, httptools, no access log",
    ),
    Server(
        name="service",
        command=(str(BIN / "bwk"), "serve"),
        ready_path=f"{PREFIX}/health/ready",
        env={"BWK_LOG_LEVEL": SERVICE_LOG_LEVEL},
        note=f"`bwk serve` with BWK_LOG_LEVEL={SERVICE_LOG_LEVEL}: "
        "the per-request access line (INFO) is filtered out; httptools, no access log, "
        "the event loop of BWK_EVENT_LOOP",
        loop=Settings().event_loop,
    ),
]

SERVICE = SERVERS[1]  # `bwk serve`, for the other benches

BASELINE = "bare"  # the Target whose req/s is 100%

TARGETS = [
    Target(name="bare", server="bare", path="/ping"),
    Target(name="GET /rooms (public)", server="service", path=f"{PREFIX}/rooms"),
    Target(name="GET /me (volunteer)", server="service", path=f"{PREFIX}/me", account="volunteer"),
    Target(
        name="POST /registrations",
        server="service",
        path=f"{PREFIX}/registrations",
        account="volunteer",
        script=BENCH / "post_registration.lua",
    ),
    # the same with a fresh Idempotency-Key on every request: the cost of the key's claim
    Target(
        name="POST /registrations (Idempotency-Key)",
        server="service",
        path=f"{PREFIX}/registrations",
        account="volunteer",
        script=BENCH / "post_registration_keyed.lua",
    ),
    # after the POSTs above, the room has thousands of registrations: a full page of 100
    Target(
        name="GET /registrations (100)",
        server="service",
        path=f"{PREFIX}/registrations?limit=100",
        account="volunteer",
    ),
    Target(
        name="GET /registrations (100) x256",
        server="service",
        path=f"{PREFIX}/registrations?limit=100",
        account="volunteer",
        connections=256,
    ),
]


# -- setup -------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: installing it with apt-get", file=sys.stderr)
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        try:
            subprocess.run(command, check=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            raise BenchError(
                f"could not install wrk ({shlex.join(command)}: {exc}); "
                "install it by hand (apt-get install wrk, as root) and run again"
            ) from None
    found = shutil.which("wrk")
    if not found:
        raise BenchError("apt-get install wrk succeeded but wrk is still not on PATH")
    return found


def fresh_database(admin_url: str, name: str) -> str:
    admin = sa.make_url(admin_url)
    if admin.database == name:
        raise BenchError(f"--database-url must name another database than {name!r}")
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.SQLAlchemyError as exc:
        raise BenchError(f"could not recreate database {name!r}: {exc}") from None
    finally:
        engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def refresh_statistics(url: str) -> None:
    """ANALYZE, as autovacuum does within a minute of a table's growth: the targets before
    a read filled the table in seconds, and a plan made for an empty table is no measure."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()


def bwk(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [str(BIN / "bwk"), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise BenchError(f"bwk {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# -- servers -----------------------------------------------------------------------------


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextlib.contextmanager
def running(
    server: Server, env: dict[str, str], logs: Path, workers: int
) -> Iterator[tuple[str, int]]:
    """Start `server` with `workers` workers, wait until it answers, yield its base
    URL and the process id (with one worker, the process that serves)."""
    port = free_port()
    log_path = logs / f"{server.name}-{workers}.log"
    command = [*server.command, "--host", HOST, "--port", str(port), "--workers", str(workers)]
    base = f"http://{HOST}:{port}"
    print(f"starting {server.name}: {shlex.join(command)}, {workers} worker(s)", file=sys.stderr)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, env={**env, **server.env}, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_ready(proc, base + server.ready_path, log_path)
        if workers > 1:
            _wait_workers(base + server.ready_path, log_path, workers)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        print(f"stopped {server.name}", file=sys.stderr)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode}:\n{_tail(log_path)}")
        try:
            response = httpx.get(url, timeout=1.0)
            if response.status_code == 200:
                return
            last = f"status {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise BenchError(f"{url} not ready after {READY_SECONDS:.0f}s ({last}):\n{_tail(log_path)}")


def _wait_workers(url: str, log_path: Path, workers: int) -> None:
    """Every worker has started (uvicorn logs one "Application startup complete" each, at
    --log-level warning none: so ask until the answers stop failing for a second)."""
    deadline = time.monotonic() + READY_SECONDS
    streak = 0
    while time.monotonic() < deadline and streak < 10 * workers:
        try:
            streak = streak + 1 if httpx.get(url, timeout=1.0).status_code == 200 else 0
        except httpx.HTTPError:
            streak = 0
        time.sleep(0.1)
    if streak < 10 * workers:
        raise BenchError(
            f"{workers} workers not ready after {READY_SECONDS:.0f}s:\n{_tail(log_path)}"
        )


def fetch_token(base: str, account: str) -> str:
    username, password = ACCOUNTS[account]
    response = httpx.post(
        f"{base}{PREFIX}/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
        timeout=30.0,
    )
    if response.status_code != 200:
        raise BenchError(
            f"sign-in as {username} answered {response.status_code}: {response.text[:300]}"
        )
    return str(response.json()["access_token"])


# -- wrk ---------------------------------------------------------------------------------

_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.MULTILINE)
_SOCKET = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def parse_wrk(output: str) -> dict[str, Any]:
    rps = _RPS.search(output)
    requests = _REQUESTS.search(output)
    percentiles = {p: float(v) * _TO_MS[u] for p, v, u in _PERCENTILE.findall(output)}
    if not rps or not requests or "50" not in percentiles or "99" not in percentiles:
        raise BenchError(f"could not read wrk's output:\n{output}")
    sockets = _SOCKET.search(output)
    socket_errors = dict(
        zip(
            ("connect", "read", "write", "timeout"),
            (int(n) for n in sockets.groups()) if sockets else (0, 0, 0, 0),
            strict=True,
        )
    )
    non_2xx = _NON_2XX.search(output)
    return {
        "requests_per_second": float(rps.group(1)),
        "requests": int(requests.group(1)),
        "seconds": float(requests.group(2)) * _TO_MS[requests.group(3)] / 1000,
        "latency_ms": {f"p{p}": round(ms, 3) for p, ms in sorted(percentiles.items())},
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": socket_errors,
    }


def wrk_command(
    wrk: str, url: str, target: Target, token: str | None, args: argparse.Namespace, seconds: int
) -> list[str]:
    # wrk takes whole seconds only
    connections = target.connections or args.connections
    command = [wrk, f"-t{args.threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    headers = list(target.headers)
    if token:
        headers.append(f"Authorization: Bearer {token}")
    for header in headers:
        command += ["-H", header]
    if target.script:
        command += ["-s", str(target.script)]
    return [*command, url]


def run_wrk(command: list[str], seconds: int) -> str:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish in {seconds + 60}s") from None
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def _tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError, ValueError):
            for child in (task / "children").read_text().split():
                found += _tree(int(child))
    return found


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) the server's processes have used so far: on a shared, loaded
    machine the CPU a request costs says more than the requests a second."""
    if pid is None:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in _tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@contextlib.contextmanager
def profiling(pid: int | None, out: Path | None, seconds: int) -> Iterator[None]:
    """py-spy samples the process `pid` for `seconds` into `out` (collapsed stacks)."""
    if pid is None or out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    command = [spy, "record", "--pid", str(pid), "--duration", str(seconds)]
    command += ["--format", "raw", "--rate", "200", "--nonblocking", "-o", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        try:
            _, err = proc.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise BenchError("py-spy did not finish") from None
        if proc.returncode != 0:
            raise BenchError(f"py-spy failed ({proc.returncode}): {err.decode()[-500:]}")


# where a sampled frame's file lives -> the library it is counted to
_LIBRARIES = (
    ("sqlalchemy", "sqlalchemy"),
    ("psycopg", "psycopg"),
    ("fastapi", "fastapi"),
    ("starlette", "starlette"),
    ("pydantic", "pydantic"),
    ("uvicorn", "uvicorn"),
    ("jose", "jose"),
    ("structlog", "structlog"),
    ("prometheus_client", "prometheus_client"),
    ("asyncio", "asyncio"),
    ("/api/", "api (ours)"),
)


def summarise_profile(path: Path, top: int = 15) -> dict[str, Any]:
    """Shares of the samples: per library (a sample counts to every library on its stack)
    and the functions that were running (own time), from py-spy's collapsed stacks."""
    total = 0
    libraries: dict[str, int] = {}
    own: dict[str, int] = {}
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        seen = {name for f in frames for key, name in _LIBRARIES if key in f}
        for name in seen:
            libraries[name] = libraries.get(name, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {
        "samples": total,
        "libraries_pct": {k: share(v) for k, v in sorted(libraries.items(), key=lambda x: -x[1])},
        "own_pct": {k: share(v) for k, v in sorted(own.items(), key=lambda x: -x[1])[:top]},
    }


def measure(
    wrk: str,
    base: str,
    target: Target,
    token: str | None,
    args: argparse.Namespace,
    profile: Path | None = None,
    pid: int | None = None,
) -> dict[str, Any]:
    url = base + target.path
    if target.script is None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        probe = httpx.get(url, headers=headers, timeout=10.0)
        if probe.status_code != target.expect:
            raise BenchError(
                f"{target.name}: GET {url} answered {probe.status_code}, "
                f"expected {target.expect}: {probe.text[:300]}"
            )
    if args.warmup > 0:
        print(f"  warming up {target.name} ({args.warmup}s)", file=sys.stderr)
        run_wrk(wrk_command(wrk, url, target, token, args, args.warmup), args.warmup)
        # wrk leaves the requests it had in flight behind (256 of them at -c256): the
        # server answers them to closed sockets; let it, before the measured run begins
        time.sleep(DRAIN_SECONDS)
    print(f"  measuring {target.name} ({args.duration}s)", file=sys.stderr)
    cpu_before = cpu_seconds(pid)
    with profiling(pid, profile, args.duration):
        output = run_wrk(wrk_command(wrk, url, target, token, args, args.duration), args.duration)
    cpu = cpu_seconds(pid) - cpu_before
    figures = parse_wrk(output)
    row = {"target": target.name, "server": target.server, "url": url, **figures}
    if figures["requests"]:
        row["server_cpu_us_per_request"] = round(1e6 * cpu / figures["requests"], 1)
    if profile is not None and pid is not None:
        row["profile"] = {"file": str(profile), **summarise_profile(profile)}
    return row


# -- report ------------------------------------------------------------------------------


def _errors(row: dict[str, Any]) -> str:
    sockets = sum(row["socket_errors"].values())
    if not row["non_2xx"] and not sockets:
        return "0"
    parts = []
    if row["non_2xx"]:
        parts.append(f"{row['non_2xx']} non-2xx")
    if sockets:
        detail = ", ".join(f"{k} {v}" for k, v in row["socket_errors"].items() if v)
        parts.append(f"{sockets} socket ({detail})")
    return "; ".join(parts)


def table(rows: list[dict[str, Any]], workers: list[int]) -> list[str]:
    """One line per target, the worker counts side by side."""
    header: list[str] = ["target"]
    for n in workers:
        w = f"{n}w"
        header += [f"{w} req/s", f"{w} % of bare", f"{w} p50", f"{w} p99", f"{w} errors"]
        header += [f"{w} CPU µs/req", f"{w} CPU % of bare"]
    names = list(dict.fromkeys(r["target"] for r in rows))
    cells: list[list[str]] = []
    for name in names:
        cell = [name]
        for n in workers:
            found = [r for r in rows if r["target"] == name and r["workers"] == n]
            if not found:
                cell += ["-"] * 7
                continue
            r = found[0]
            cell += [
                f"{r['requests_per_second']:,.0f}",
                "-" if r["share_of_bare_pct"] is None else f"{r['share_of_bare_pct']:.1f}%",
                f"{r['latency_ms']['p50']:.1f} ms",
                f"{r['latency_ms']['p99']:.1f} ms",
                _errors(r),
                _number(r.get("server_cpu_us_per_request"), "{:,.0f}"),
                _number(r.get("cpu_share_of_bare_pct"), "{:.1f}%"),
            ]
        cells.append(cell)
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]

    def line(values: list[str]) -> str:
        first, *rest = values
        return "  ".join(
            [first.ljust(widths[0]), *(v.rjust(w) for v, w in zip(rest, widths[1:], strict=True))]
        ).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(c) for c in cells)]


def _number(value: float | None, form: str) -> str:
    return "-" if value is None else form.format(value)


def _file_name(target: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", target.lower()).strip("-")


def nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return str(os.cpu_count())


def wrk_version(wrk: str) -> str:
    # `wrk -v` prints its banner and exits non-zero
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).strip().splitlines()
    return first[0] if first else "unknown"


def invocation() -> str:
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(ROOT)
    script = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        script = script.relative_to(ROOT)
    return shlex.join([str(python), str(script), *sys.argv[1:]])


# -- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per target")
    parser.add_argument("--connections", type=int, default=32, help="wrk's open connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each run")
    parser.add_argument("--database-url", default=ADMIN_URL, help="an admin URL to create DBs")
    parser.add_argument("--database-name", default="bwk_bench", help="dropped and recreated")
    parser.add_argument(
        "--workers", default="1,2", help="worker counts, side by side (e.g. 1,2 or 1)"
    )
    parser.add_argument("--only", default=None, help="only the targets whose name holds this")
    parser.add_argument(
        "--profile", type=Path, default=None, help="a folder: py-spy the 1-worker service"
    )
    args = parser.parse_args()
    if args.duration < 1 or args.warmup < 0 or args.connections < args.threads or args.threads < 1:
        parser.error("need --duration >= 1, --warmup >= 0, --connections >= --threads >= 1")
    try:
        workers = sorted({int(n) for n in args.workers.split(",") if n.strip()})
    except ValueError:
        parser.error("--workers takes whole numbers separated by commas")
    if not workers or workers[0] < 1:
        parser.error("--workers takes worker counts of 1 or more")
    chosen = [t for t in TARGETS if t.name == BASELINE or not args.only or args.only in t.name]
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)

    wrk = ensure_wrk()
    print(f"database {args.database_name}: recreate, migrate, seed --demo", file=sys.stderr)
    url = fresh_database(args.database_url, args.database_name)
    env = {**os.environ, "BWK_MODE": "demo", "BWK_DATABASE_URL": url}
    bwk(env, "migrate")
    bwk(env, "seed", "--demo")

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bwk-throughput-") as logs:
        for count in workers:
            for server in SERVERS:  # one after the other: never two servers on the 2 cores
                targets = [t for t in chosen if t.server == server.name]
                if not targets:
                    continue
                with running(server, env, Path(logs), count) as (base, pid):
                    tokens = {
                        account: fetch_token(base, account)
                        for account in sorted({t.account for t in targets if t.account})
                    }
                    for target in targets:
                        token = tokens.get(target.account) if target.account else None
                        spied = args.profile is not None and count == 1 and server.name != "bare"
                        profile = args.profile / f"{_file_name(target.name)}.txt" if spied else None
                        refresh_statistics(url)
                        row = measure(wrk, base, target, token, args, profile, pid)
                        rows.append({**row, "workers": count})

    for count in workers:
        ceiling = next(
            (
                r["requests_per_second"]
                for r in rows
                if r["target"] == BASELINE and r["workers"] == count
            ),
            None,
        )
        bare_cpu = next(
            (
                r.get("server_cpu_us_per_request")
                for r in rows
                if r["target"] == BASELINE and r["workers"] == count
            ),
            None,
        )
        for row in rows:
            if row["workers"] == count:
                share = 100 * row["requests_per_second"] / ceiling if ceiling else None
                row["share_of_bare_pct"] = None if share is None else round(share, 1)
                cpu = row.get("server_cpu_us_per_request")
                row["cpu_share_of_bare_pct"] = (
                    round(100 * bare_cpu / cpu, 1) if bare_cpu and cpu else None
                )

    figures = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": nproc(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "wrk": wrk_version(wrk),
        "command": invocation(),
        "wrk_options": {
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
        },
        "servers": {
            s.name: {
                "command": " ".join(Path(part).name for part in s.command),
                "workers": args.workers,
                "loop": s.loop,
                "env": s.env,
                "note": s.note,
            }
            for s in SERVERS
        },
        "workers": workers,
        "results": rows,
    }

    lines = [
        *table(rows, workers),
        "",
        *(f"{s.name}: {s.note}" for s in SERVERS),
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency, "
        f"after {args.warmup}s warm-up; --workers {','.join(map(str, workers))} "
        "(one count at a time; each share is of bare with as many workers), "
        + ", ".join(f"{s.name} on {s.loop}" for s in SERVERS),
        "CPU µs/req: user + system CPU of the server's processes during the run, per request "
        "answered; its % of bare is bare's µs/req over the target's (the share on an idle "
        "core, robust to other load on the machine; the database's CPU is not in it)",
        f"{figures['date']}  nproc {figures['nproc']}  Python {figures['python']}  "
        f"{figures['command']}",
    ]
    for row in rows:
        if "profile" in row:
            prof = row["profile"]
            lines += ["", f"py-spy, {row['target']} ({prof['samples']} samples, {prof['file']}):"]
            lines.append("  " + ", ".join(f"{k} {v}%" for k, v in prof["libraries_pct"].items()))
            lines += [f"  {v:5.1f}%  {k}" for k, v in prof["own_pct"].items()]
    print("\n".join(lines))

    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    path = results / f"throughput-{int(time.time())}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
