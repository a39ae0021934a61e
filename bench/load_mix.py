"""A second load mix at 64 connections, on 1 and on 2 workers in one run, every acknowledged
write reconciled with the database.

    .venv/bin/python bench/load_mix.py [--seconds 180] [--workers 1,2] [--smoke]

For each worker count: a fresh PostgreSQL database (`bwk_bench_mix` on the server of
--database-url, an admin URL), migrated and seeded with the demo data, then
`bwk serve --workers N` (the command production runs; BWK_LOG_LEVEL=WARNING) and, once every
worker is up, 64 clients of one connection each, in a closed loop without pauses, for
--warmup seconds (not measured; its writes are reconciled too) and then --seconds:

- 44 desks (11 per room, as its volunteer): `POST /registrations` with an Idempotency-Key
  (10% retried twice with the same key, 5% sent twice at the same moment), and every
  fourth time a list of 50 (`GET /registrations`);
- 16 partner systems (madi, pbazo, pozo, venzo; client credentials) polling
  `GET /referrals?status=sent`, and every tenth time referring someone (`POST /referrals`,
  with a key);
- 4 district clients (stadsdeel) pulling this year's `GET /indicators/performance`.

Prints p50/p99 and req/s per route side by side for each worker count, and the share of a
core each worker process and the load generator itself got in the measured seconds (they
share the machine with the database: on a busy machine, two workers may get no more CPU
than one). Then reconciles: every acknowledged registration and referral is in the
database, no key is stored twice, and the year's services per the API equal a count from
the table. Exits 1 on any lost or doubled write or any error (a transport error, a 5xx, or
an answer the route should not give). Writes the figures to
bench/results/load_mix-<unix time>.json. Loopback only; every loop ends at its deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import desk_day as dd
import throughput as tp

PARTNERS = ("madi", "pbazo", "pozo", "venzo")
READY_SECONDS = 120.0
# what a route may answer without it counting as an error: a double click's twin may find
# its key still being handled (409)
EXPECTED = {"POST /registrations": (201, 409), "POST /referrals": (201, 409)}


class Mix(dd.Day):
    """desk_day's Day (latency per route, acknowledged registrations) plus the referrals,
    and errors that include answers a route should not give."""

    def __init__(self, base: str, seconds: float) -> None:
        super().__init__(base, seconds)
        self.referrals: dict[str, str] = {}  # idempotency key -> referral id
        self.referral_keys: set[str] = set()
        self.measure_from = 0.0

    async def call(
        self, client: httpx.AsyncClient, label: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        """The request; its latency counts when it began after the warm-up (every write
        is reconciled, the warm-up's too); transport errors, 5xx and answers the route
        should not give are errors."""
        started = time.monotonic()
        if started >= self.deadline:
            return None
        measured = started >= self.measure_from
        try:
            response = await client.request(method, path, **kw)
        except httpx.HTTPError:
            self.errors[label] += measured
            return None
        if measured:
            self.latency[label].append((time.monotonic() - started) * 1000)
            status = response.status_code
            if status >= 500 or (status >= 400 and status not in EXPECTED.get(label, (200,))):
                self.errors[label] += 1
        return response


async def sign_in(base: str) -> dict[str, dict[str, str]]:
    """One token per account, before the clock starts (Argon2 is not what is measured)."""
    accounts = {f"volunteer.{room}": room for room in dd.ROOMS} | {"stadsdeel": ""}
    auth = {name: await dd.person(base, name) for name in accounts}
    for code in PARTNERS:
        signed = await dd.token(
            base, grant_type="client_credentials", client_id=code, client_secret="demo-secret"
        )
        auth[code] = {"Authorization": f"Bearer {signed}"}
    return auth


def _client(base: str, auth: dict[str, str], keep: bool = True) -> httpx.AsyncClient:
    """One connection per client: 64 clients are 64 connections (`keep=False`: closed after
    each request). Plain HTTP on loopback: verify=False spares loading the CA bundle, tens
    of milliseconds of the event loop per client on a busy machine."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=int(keep))
    return httpx.AsyncClient(base_url=base, headers=auth, timeout=60, limits=limits, verify=False)


async def desk(mix: Mix, room: str, auth: dict[str, str], rng: random.Random) -> None:
    residents: list[str] = []
    label = "POST /registrations"
    # the twin sends a double click's second request, on a connection opened only then
    async with _client(mix.base, auth) as c, _client(mix.base, auth, keep=False) as twin:
        turn = 0
        while time.monotonic() < mix.deadline:
            turn += 1
            if turn % 4 == 0:
                await mix.call(
                    c, "GET /registrations", "GET", "/registrations", params={"limit": 50}
                )
                continue
            key = dd.new_key()
            mix.sent_keys.add(key)
            body, headers = dd.registration(rng, room, key, residents), {"Idempotency-Key": key}
            if rng.random() < 0.05:  # a double click: the second on a connection of its own
                answers = await asyncio.gather(
                    mix.call(c, label, "POST", "/registrations", json=body, headers=headers),
                    mix.call(twin, label, "POST", "/registrations", json=body, headers=headers),
                )
            else:
                tries = 3 if rng.random() < 0.1 else 1  # a bad line: the desk sends again
                answers = [
                    await mix.call(c, label, "POST", "/registrations", json=body, headers=headers)
                    for _ in range(tries)
                ]
            mix.acknowledge(key, list(answers), residents)


async def partner(mix: Mix, auth: dict[str, str], rng: random.Random) -> None:
    async with _client(mix.base, auth) as c:
        turn = 0
        while time.monotonic() < mix.deadline:
            turn += 1
            if turn % 10:
                await mix.call(
                    c,
                    "GET /referrals",
                    "GET",
                    "/referrals",
                    params={"status": "sent", "limit": 50},
                )
                continue
            key = dd.new_key()
            mix.referral_keys.add(key)
            answer = await mix.call(
                c,
                "POST /referrals",
                "POST",
                "/referrals",
                json={"room": rng.choice(dd.ROOMS), "reason": "needs help with forms", "note": key},
                headers={"Idempotency-Key": key},
            )
            if answer is not None and answer.status_code == 201:
                mix.referrals[key] = answer.json()["id"]


async def district(mix: Mix, auth: dict[str, str]) -> None:
    async with _client(mix.base, auth) as c:
        while time.monotonic() < mix.deadline:
            await mix.call(
                c,
                "GET /indicators/performance",
                "GET",
                "/indicators/performance",
                params={"year": date.today().year},
            )


async def run_mix(
    base: str, args: argparse.Namespace, workers: list[int]
) -> tuple[Mix, float, float, list[float]]:
    """The mix for --warmup and then --seconds; returns it, the measured seconds, the load
    generator's CPU seconds in them and each worker process's (`workers`: their pids)."""
    auth = await sign_in(base)
    rng = random.Random(args.seed)
    mix = Mix(base, args.seconds)
    tasks = [
        desk(
            mix, dd.ROOMS[i % 4], auth[f"volunteer.{dd.ROOMS[i % 4]}"], random.Random(rng.random())
        )
        for i in range(args.desks)
    ]
    tasks += [
        partner(mix, auth[PARTNERS[i % len(PARTNERS)]], random.Random(rng.random()))
        for i in range(args.partners)
    ]
    tasks += [district(mix, auth["stadsdeel"]) for _ in range(args.district)]
    # from now, after signing in: the warm-up, then the measured seconds
    mix.measure_from = time.monotonic() + args.warmup
    mix.deadline = mix.measure_from + args.seconds
    everything = asyncio.gather(*tasks)
    await asyncio.sleep(max(0.0, mix.measure_from - time.monotonic()))
    cpu, started = time.process_time(), time.perf_counter()
    served = [cpu_seconds(pid) for pid in workers]
    await everything
    served = [cpu_seconds(pid) - before for pid, before in zip(workers, served, strict=True)]
    return mix, time.perf_counter() - started, time.process_time() - cpu, served


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds process `pid` has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(supervisor: int, workers: int) -> list[int]:
    """The processes that serve: the supervisor itself for one worker, else its children
    that uvicorn spawned (not multiprocessing's resource tracker)."""
    if workers == 1:
        return [supervisor]
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [
        int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


# -- the server --------------------------------------------------------------------------


@contextlib.contextmanager
def serving(env: dict[str, str], workers: int, logs: Path) -> Iterator[tuple[str, list[int]]]:
    """`bwk serve --workers N` in a session of its own, once every worker is up (each writes
    its metrics file when it starts) and the service answers: its base URL and the worker
    processes; SIGTERM to all at the end."""
    metrics_dir = Path(tempfile.mkdtemp(prefix="bwk-mix-metrics-"))
    port = tp.free_port()
    log_path = logs / f"serve-{workers}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(tp.BIN / "bwk"), "serve", "--port", str(port), "--workers", str(workers)],
            cwd=tp.ROOT,
            env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://{tp.HOST}:{port}{tp.PREFIX}"
    try:
        deadline = time.monotonic() + READY_SECONDS
        while not _ready(base, metrics_dir, workers):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise tp.BenchError(
                    f"bwk serve --workers {workers} did not get ready:\n"
                    + log_path.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.2)
        yield base, worker_pids(proc.pid, workers)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        for file in metrics_dir.glob("*"):
            file.unlink()
        metrics_dir.rmdir()


def _ready(base: str, metrics_dir: Path, workers: int) -> bool:
    started = len(list(metrics_dir.glob("gauge_livesum_*.db")))
    if workers > 1 and started < workers:
        return False
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{base}/health/ready", timeout=2).status_code == 200
    return False


# -- reconciling -------------------------------------------------------------------------


def reconcile_referrals(dsn: str, mix: Mix) -> list[str]:
    with psycopg.connect(dsn) as conn:
        lost, doubled = dd.lost_and_doubled(
            conn, "referral", "partner_note", mix.referrals, mix.referral_keys
        )
    print(
        f"reconciled: {len(mix.referrals)} acknowledged referrals, {len(lost)} lost, "
        f"{len(doubled)} doubled"
    )
    return dd.problems_of("referrals", lost, doubled)


# -- report ------------------------------------------------------------------------------


def figures(mix: Mix, seconds: float) -> dict[str, dict[str, float]]:
    out = {}
    for label, samples in sorted(mix.latency.items()):
        q = statistics.quantiles(samples, n=100) if len(samples) > 1 else samples * 99
        out[label] = {
            "requests": len(samples),
            "per_second": round(len(samples) / seconds, 1),
            "p50_ms": round(q[49], 1),
            "p99_ms": round(q[98], 1),
            "errors": mix.errors[label],
        }
    return out


def table(runs: list[dict[str, Any]]) -> list[str]:
    routes = sorted({route for run in runs for route in run["routes"]})
    head = f"{'route':<28}" + "".join(
        f" | {str(run['workers']) + ' worker(s)':>14} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'err':>4}"
        for run in runs
    )
    lines = [head, "-" * len(head)]
    for route in [*routes, "all"]:
        cells = ""
        for run in runs:
            row = run["routes"].get(route) if route != "all" else run["total"]
            if row is None:
                cells += f" | {'-':>14} {'':>7} {'':>8} {'':>8} {'':>4}"
                continue
            cells += (
                f" | {row['requests']:>14,} {row['per_second']:>7.1f} "
                f"{row.get('p50_ms', float('nan')):>8.1f} {row.get('p99_ms', float('nan')):>8.1f} "
                f"{row['errors']:>4}"
            )
        lines.append(f"{route:<28}{cells}")
    return lines


def one_run(args: argparse.Namespace, workers: int, logs: Path) -> dict[str, Any]:
    print(
        f"\n{workers} worker(s): database {args.database_name}, migrate, seed --demo",
        file=sys.stderr,
    )
    url, env = dd.demo_database(args.database_url, args.database_name)
    with serving(env, workers, logs) as (base, pids):
        print(f"  {args.seconds:.0f} s of the mix on {base}", file=sys.stderr)
        mix, seconds, cpu, served = asyncio.run(run_mix(base, args, pids))
        print(f"\n{workers} worker(s):")
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        stadsdeel = asyncio.run(dd.person(base, "stadsdeel"))["Authorization"].split()[1]
        problems = dd.reconcile(dsn, mix, base, stadsdeel) + reconcile_referrals(dsn, mix)
    routes = figures(mix, seconds)
    everything = [ms for samples in mix.latency.values() for ms in samples]
    q = statistics.quantiles(everything, n=100) if len(everything) > 1 else everything * 99
    return {
        "workers": workers,
        "seconds": round(seconds, 1),
        "load_generator_cpu_share": round(cpu / seconds, 2),
        # the CPU the machine gave each worker: on a busy machine, the reason more workers
        # may not serve more
        "worker_cpu_shares": [round(s / seconds, 2) for s in served],
        "routes": routes,
        "total": {
            "requests": len(everything),
            "per_second": round(len(everything) / seconds, 1),
            "p50_ms": round(q[49], 1),
            "p99_ms": round(q[98], 1),
            "errors": sum(mix.errors.values()),
        },
        "acknowledged": {"registrations": len(mix.acknowledged), "referrals": len(mix.referrals)},
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=180, help="of the mix, per run")
    parser.add_argument("--warmup", type=float, default=5, help="seconds not measured, per run")
    parser.add_argument("--smoke", action="store_true", help="10 s per run: does it work?")
    parser.add_argument("--workers", default="1,2", help="worker counts, one run each")
    parser.add_argument("--desks", type=int, default=44)
    parser.add_argument("--partners", type=int, default=16)
    parser.add_argument("--district", type=int, default=4)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--database-url", default=tp.ADMIN_URL, help="an admin URL")
    parser.add_argument("--database-name", default="bwk_bench_mix", help="dropped, recreated")
    args = parser.parse_args()
    if args.smoke:
        args.seconds = 10.0
    try:
        counts = [int(n) for n in args.workers.split(",")]
    except ValueError:
        parser.error("--workers takes worker counts, e.g. 1,2")
    if (
        args.seconds <= 0
        or args.warmup < 0
        or min(counts) < 1
        or min(args.desks, args.partners, args.district) < 0
    ):
        parser.error("need --seconds > 0, worker counts >= 1 and no negative client counts")
    connections = args.desks + args.partners + args.district

    with tempfile.TemporaryDirectory(prefix="bwk-mix-") as logs:
        runs = [one_run(args, n, Path(logs)) for n in counts]  # one after the other

    when = datetime.now(UTC).isoformat(timespec="seconds")
    print(
        f"\n{connections} connections ({args.desks} desks, {args.partners} partners, "
        f"{args.district} district), {args.seconds:.0f} s per run after {args.warmup:.0f} s "
        "of warm-up, PostgreSQL; "
        f"bwk serve --workers N, BWK_LOG_LEVEL={tp.SERVICE_LOG_LEVEL}"
    )
    print("\n".join(table(runs)))
    for run in runs:
        shares = ", ".join(f"{100 * share:.0f}%" for share in run["worker_cpu_shares"])
        print(
            f"{run['workers']} worker(s): the workers used {shares} of a core, the load "
            f"generator {100 * run['load_generator_cpu_share']:.0f}%; acknowledged "
            f"{run['acknowledged']['registrations']} registrations, "
            f"{run['acknowledged']['referrals']} referrals"
        )
    print(f"{when}  nproc {tp.nproc()}  {tp.invocation()}")
    results = tp.BENCH / "results"
    results.mkdir(exist_ok=True)
    path = results / f"load_mix-{int(time.time())}.json"
    record = {
        "date": when,
        "nproc": tp.nproc(),
        "command": tp.invocation(),
        "connections": connections,
        "seconds": args.seconds,
        "runs": runs,
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written: {path.relative_to(tp.ROOT)}")
    problems = [f"{r['workers']} worker(s): {p}" for r in runs for p in r["problems"]]
    problems += [
        f"{r['workers']} worker(s): {r['total']['errors']} errors"
        for r in runs
        if r["total"]["errors"]
    ]
    if problems:
        print("PROBLEMS: " + "; ".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except tp.BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
