"""A day at the desks, compressed: a realistic mix against one uvicorn worker on PostgreSQL,
then a reconciliation with the database, and the worker's memory.

    .venv/bin/python bench/desk_day.py [--seconds 30] [--desks 24] [--rounds 2]

Desks register residents and help (most of the traffic; some retries with the same
Idempotency-Key, some at the same moment), coordinators list and correct, partners post and
answer referrals, the stadsdeel pulls a year's figures. Prints throughput and p50/p95/p99
per operation; then checks that every acknowledged write is in the database exactly once,
that nothing unacknowledged was counted twice, and that the indicators equal a count made
straight from the tables; then the worker's resident memory after each round.
Loopback only; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput as tp

ROOMS = ["casa-jepie-makandra", "multibron", "de-handreiking", "samen-sterk"]
ACTIVITIES = [
    "connection",
    "activation",
    "odd-jobs",
    "computer-skills",
    "dutch-language",
    "forms",
    "debt-and-budget",
    "work-guidance",
]


class Day:
    def __init__(self, base: str, seconds: float) -> None:
        self.base, self.deadline = base, time.monotonic() + seconds
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.acknowledged: dict[str, str] = {}  # idempotency key -> registration id
        self.sent_keys: set[str] = set()

    async def call(
        self, client: httpx.AsyncClient, label: str, method: str, path: str, **kw
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.request(method, path, **kw)
        except httpx.HTTPError:
            self.errors[label] += 1
            return None
        self.latency[label].append((time.perf_counter() - started) * 1000)
        if response.status_code >= 500:
            self.errors[label] += 1
        return response

    def acknowledge(
        self, key: str, answers: list[httpx.Response | None], residents: list[str]
    ) -> None:
        """Note a registration the server acknowledged (201) under `key`, and its resident
        for the desk's next registrations."""
        for answer in answers:
            if answer is not None and answer.status_code == 201:
                self.acknowledged[key] = answer.json()["id"]
                if answer.json()["residentId"]:
                    residents.append(answer.json()["residentId"])


async def token(base: str, **form: str) -> str:
    # Argon2 on a busy machine, many signing in at once: more than httpx's 5 s
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        return (await c.post("/auth/token", data=form)).json()["access_token"]


async def person(base: str, username: str) -> dict[str, str]:
    signed = await token(base, grant_type="password", username=username, password="demo-password")
    return {"Authorization": f"Bearer {signed}"}


def new_key() -> str:
    """An Idempotency-Key that is also the write's note, to find it in the database; letters
    only: nine digits in a note may pass the BSN eleven-test and be refused."""
    return uuid.uuid4().hex.translate(str.maketrans("0123456789", "ghijklmnop"))


def registration(rng: random.Random, room: str, key: str, residents: list[str]) -> dict:
    """A desk's registration in the last 60 days: a known resident (60% once there are
    some), a new one, or a group's headcount."""
    body = {
        "room": room,
        "activity": rng.choice(ACTIVITIES),
        "occurredOn": (date.today() - timedelta(days=rng.randrange(60))).isoformat(),
        "note": key,
    }
    if residents and rng.random() < 0.6:
        body["residentId"] = rng.choice(residents)
    elif rng.random() < 0.5:
        body["resident"] = {"languages": ["nl"]}
    else:
        body["headcount"] = rng.randint(2, 12)
    return body


async def desk(day: Day, room: str, rng: random.Random, base: str) -> None:
    auth = await person(base, f"volunteer.{room}")
    residents: list[str] = []
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as c:
        while time.monotonic() < day.deadline:
            key = new_key()
            day.sent_keys.add(key)
            body = registration(rng, room, key, residents)
            headers = {"Idempotency-Key": key}
            tries = 3 if rng.random() < 0.1 else 1  # a bad connection: the desk retries
            if rng.random() < 0.05:  # a double click: two at the same moment
                answers = await asyncio.gather(
                    *(
                        day.call(
                            c,
                            "POST /registrations",
                            "POST",
                            "/registrations",
                            json=body,
                            headers=headers,
                        )
                        for _ in range(2)
                    )
                )
            else:
                answers = [
                    await day.call(
                        c,
                        "POST /registrations",
                        "POST",
                        "/registrations",
                        json=body,
                        headers=headers,
                    )
                    for _ in range(tries)
                ]
            day.acknowledge(key, answers, residents)


async def coordinator(day: Day, room: str, rng: random.Random, base: str) -> None:
    auth = await person(base, f"coordinator.{room}")
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as c:
        while time.monotonic() < day.deadline:
            page = await day.call(
                c, "GET /registrations", "GET", "/registrations", params={"limit": 100}
            )
            items = page.json()["items"] if page is not None and page.status_code == 200 else []
            if items and rng.random() < 0.3:
                item = rng.choice(items)
                if item["residentId"] is None:
                    await day.call(
                        c,
                        "PATCH /registrations",
                        "PATCH",
                        f"/registrations/{item['id']}",
                        headers={"If-Match": f'"{item["version"]}"'},
                        json={"headcount": item["headcount"] + 1, "reason": "counted again"},
                    )
            await asyncio.sleep(0.2)


async def partner(day: Day, code: str, rng: random.Random, base: str) -> None:
    secret = await token(
        base, grant_type="client_credentials", client_id=code, client_secret="demo-secret"
    )
    auth = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as c:
        while time.monotonic() < day.deadline:
            await day.call(
                c,
                "POST /referrals",
                "POST",
                "/referrals",
                json={"room": rng.choice(ROOMS), "reason": "needs help with forms"},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            await asyncio.sleep(0.3)


async def district(day: Day, base: str) -> None:
    auth = await person(base, "stadsdeel")
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=60) as c:
        while time.monotonic() < day.deadline:
            await day.call(
                c,
                "GET /indicators/performance",
                "GET",
                "/indicators/performance",
                params={"year": date.today().year},
            )
            await asyncio.sleep(1.0)


async def one_round(bases: list[str], seconds: float, desks: int, seed: int) -> Day:
    """Every client talks to one of the server processes, in turn (a load balancer)."""
    day, rng = Day(bases[0], seconds), random.Random(seed)
    pick = iter(bases * (desks + 8))
    tasks = [desk(day, ROOMS[i % 4], random.Random(rng.random()), next(pick)) for i in range(desks)]
    tasks += [coordinator(day, room, random.Random(rng.random()), next(pick)) for room in ROOMS]
    tasks += [
        partner(day, code, random.Random(rng.random()), next(pick)) for code in ("madi", "pozo")
    ]
    tasks.append(district(day, next(pick)))
    await asyncio.gather(*tasks)
    return day


def demo_database(admin_url: str, name: str) -> tuple[str, dict[str, str]]:
    """A fresh database `name` migrated and seeded with the demo data; its URL, and the
    environment that serves it in demo mode with warnings only in the log."""
    url = tp.fresh_database(admin_url, name)
    env = {
        **os.environ,
        "BWK_MODE": "demo",
        "BWK_DATABASE_URL": url,
        "BWK_LOG_LEVEL": tp.SERVICE_LOG_LEVEL,
    }
    tp.bwk(env, "migrate")
    tp.bwk(env, "seed", "--demo")
    return url, env


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def lost_and_doubled(
    conn: psycopg.Connection,
    table: str,
    note: str,
    acknowledged: dict[str, str],
    sent: set[str],
) -> tuple[list[str], list[str]]:
    """The acknowledged writes (key -> id) missing from `table`, and the keys sent whose note
    (column `note`) is stored more than once. Names are the bench's own, never input."""
    counts = dict(
        conn.execute(
            f"SELECT {note}, count(*) FROM {table} WHERE {note} IS NOT NULL GROUP BY {note}"
        ).fetchall()
    )
    ids = {str(r[0]) for r in conn.execute(f"SELECT id FROM {table}")}
    lost = [k for k, rid in acknowledged.items() if rid not in ids]
    return lost, [k for k in sent if counts.get(k, 0) > 1]


def problems_of(what: str, lost: list[str], doubled: list[str]) -> list[str]:
    problems = []
    if lost:
        problems.append(f"{len(lost)} acknowledged {what} are missing")
    if doubled:
        problems.append(f"{len(doubled)} {what} were stored twice")
    return problems


def reconcile(dsn: str, day: Day, base: str, stadsdeel: str) -> list[str]:
    year = date.today().year
    with psycopg.connect(dsn) as conn:
        lost, doubled = lost_and_doubled(
            conn, "registration", "note", day.acknowledged, day.sent_keys
        )
        # services of this year straight from the table: live headcounts of 'services' activities
        by_table = conn.execute(
            "SELECT coalesce(sum(r.headcount), 0) FROM registration r JOIN activity a "
            "ON a.id = r.activity_id WHERE r.voided_at IS NULL AND a.target_unit = 'services' "
            "AND r.occurred_on BETWEEN %s AND %s",
            (date(year, 1, 1), date(year, 12, 31)),
        ).fetchone()[0]
    figures = httpx.get(
        f"{base}/indicators/performance",
        params={"year": year},
        headers={"Authorization": f"Bearer {stadsdeel}"},
        timeout=60,
    ).json()
    services = [i["realised"] for i in figures["totals"]["indicators"] if i["unit"] == "services"]
    # a small count is hidden (null) by the disclosure control: nothing to compare then
    by_api = None if None in services else sum(services)
    print(
        f"reconciled: {len(day.acknowledged)} acknowledged writes, {len(lost)} lost, "
        f"{len(doubled)} doubled; services this year: API "
        f"{'hidden (a small count)' if by_api is None else by_api}, table {by_table}"
    )
    problems = problems_of("writes", lost, doubled)
    if by_api is not None and by_api != by_table:
        problems.append(f"services: the API says {by_api}, the table {by_table}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--desks", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=1, help="server processes, one DB")
    parser.add_argument("--database-url", default=tp.ADMIN_URL)
    args = parser.parse_args()
    url, env = demo_database(args.database_url, "bwk_bench_day")
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as logs, contextlib.ExitStack() as stack:
        servers = [  # (base URL, the process that serves)
            stack.enter_context(
                tp.running(replace(tp.SERVICE, name=f"service{i}"), env, Path(logs), 1)
            )
            for i in range(args.replicas)
        ]
        bases = [root + tp.PREFIX for root, _ in servers]
        base, pid = bases[0], servers[0][1]
        memory = [rss_mb(pid)]
        for round_ in range(args.rounds):
            started = time.perf_counter()
            day = asyncio.run(one_round(bases, args.seconds, args.desks, seed=round_))
            elapsed = time.perf_counter() - started
            memory.append(rss_mb(pid))
            print(
                f"\nround {round_ + 1}: {args.seconds:.0f} s, {args.desks} desks, "
                f"{args.replicas} server process(es)"
            )
            print(
                f"{'operation':<28} {'count':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
                f"{'p99 ms':>8} {'errors':>6}"
            )
            for label, samples in sorted(day.latency.items()):
                samples.sort()
                q = statistics.quantiles(samples, n=100) if len(samples) > 1 else samples * 99
                print(
                    f"{label:<28} {len(samples):>6} {len(samples) / elapsed:>7.1f} "
                    f"{q[49]:>8.1f} {q[94]:>8.1f} {q[98]:>8.1f} {day.errors[label]:>6}"
                )
            stadsdeel = asyncio.run(
                token(base, grant_type="password", username="stadsdeel", password="demo-password")
            )
            problems += reconcile(dsn, day, base, stadsdeel)
        print(
            "\nworker memory (RSS, MB): "
            + ", ".join(f"{m:.1f}" for m in memory)
            + "  (start, after each round)"
        )
        if len(memory) >= 3:
            growth = 100 * (memory[-1] - memory[-2]) / memory[-2]
            print(f"growth in the last round: {growth:+.1f}%")
    if problems:
        print("PROBLEMS: " + "; ".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
