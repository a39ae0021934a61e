"""How fast the district's figures come at city scale, beside the raw SQL aggregate.

    .venv/bin/python bench/indicators_bench.py [--registrations 1000000] [--requests 30]

Loads 1,000,000 registrations (20,000 residents, 4 rooms, 2018-2020, 10% anonymous
groups, 2% voided) into a fresh PostgreSQL database by COPY, then, in one run:
- the raw aggregate straight over the registrations table (psql-style, one query for a
  year: services and distinct people per room and activity, with district totals);
- GET /api/v1/indicators/performance?year=2019 and ?year=2019&quarter=2 over HTTP against
  one uvicorn worker, as the stadsdeel: first with the figures from the presence rollup
  (the default), then from a second server with BWK_FIGURES_FROM_ROLLUP=false, which counts
  over the registrations as before the rollup.
Prints median and p95 in milliseconds for each. The load goes through the rollup's
triggers (one COPY statement: one aggregate upsert); its time and the rollup's rows are
printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput as tp

RAW_YEAR = """
SELECT room_id, activity_id, sum(headcount), count(DISTINCT resident_id)
FROM registration
WHERE voided_at IS NULL AND occurred_on BETWEEN %s AND %s
GROUP BY GROUPING SETS ((room_id, activity_id), (room_id), (activity_id), ())
"""


def load(url: str, registrations: int, residents: int) -> None:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    rng = random.Random(7)
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        rooms = [r[0] for r in conn.execute("SELECT id FROM room ORDER BY id")]
        activities = [r[0] for r in conn.execute("SELECT id FROM activity ORDER BY id")]
        ids = [uuid.uuid4() for _ in range(residents)]
        home = {i: rng.choice(rooms) for i in ids}
        with conn.cursor().copy(
            "COPY resident (id, code, languages, home_room_id, birth_year, postcode_area, "
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            for n, i in enumerate(ids):
                copy.write_row(
                    (
                        i,
                        f"B{n:05d}"[:6][:3] + "-" + f"{n:06d}"[-3:],
                        "[]",
                        home[i],
                        rng.randint(1940, 2005),
                        str(rng.randint(1101, 1109)),
                        now,
                        now,
                    )
                )
        with conn.cursor().copy(
            "COPY registration (id, room_id, activity_id, occurred_on, resident_id, headcount, "
            "created_at, updated_at, version, voided_at) FROM STDIN"
        ) as copy:
            first = date(2018, 1, 1)
            for _ in range(registrations):
                anonymous = rng.random() < 0.10
                resident = None if anonymous else rng.choice(ids)
                room = home[resident] if resident and rng.random() < 0.8 else rng.choice(rooms)
                copy.write_row(
                    (
                        uuid.uuid4(),
                        room,
                        rng.choice(activities),
                        first + timedelta(days=rng.randrange(3 * 365)),
                        resident,
                        rng.randint(2, 25) if anonymous else 1,
                        now,
                        now,
                        1,
                        now if rng.random() < 0.02 else None,
                    )
                )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE registration")
        conn.execute("VACUUM ANALYZE resident")
        conn.execute("VACUUM ANALYZE presence")  # the rollup, filled by the triggers


def timings(call, n: int) -> dict[str, float]:
    for _ in range(3):
        call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registrations", type=int, default=1_000_000)
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url", default=tp.ADMIN_URL)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database an earlier run loaded (bwk_bench_indicators) again",
    )
    args = parser.parse_args()
    name = "bwk_bench_indicators"
    if args.reuse:
        url = sa.make_url(args.database_url).set(database=name).render_as_string(False)
    else:
        url = tp.fresh_database(args.database_url, name)
    env = {
        **os.environ,
        "BWK_MODE": "demo",
        "BWK_DATABASE_URL": url,
        "BWK_LOG_LEVEL": tp.SERVICE_LOG_LEVEL,
        # the raw path takes seconds on a loaded machine: not cut off at the default 5 s
        "BWK_DB_STATEMENT_TIMEOUT_MS": "120000",
    }
    load_seconds = None
    tp.bwk(env, "migrate")  # a reused database is brought up to the code's migrations too
    if not args.reuse:
        tp.bwk(env, "seed", "--demo")
        started = time.perf_counter()
        load(url, args.registrations, args.residents)
        load_seconds = round(time.perf_counter() - started)
        print(f"loaded {args.registrations} registrations in {load_seconds}s", file=sys.stderr)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    results: dict[str, dict[str, float]] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        results["raw SQL, year"] = timings(
            lambda: conn.execute(RAW_YEAR, (date(2019, 1, 1), date(2019, 12, 31))).fetchall(),
            args.requests,
        )
        results["raw SQL, quarter"] = timings(
            lambda: conn.execute(RAW_YEAR, (date(2019, 4, 1), date(2019, 6, 30))).fetchall(),
            args.requests,
        )
        rollup_rows = conn.execute("SELECT count(*) FROM presence").fetchone()[0]
    print(f"rollup: {rollup_rows} rows", file=sys.stderr)
    tp.ACCOUNTS["stadsdeel"] = ("stadsdeel", "demo-password")
    service = tp.SERVICE
    answers: dict[str, list[bytes]] = {}
    for how, setting in (("rollup", "true"), ("raw, as before", "false")):
        with (
            tempfile.TemporaryDirectory() as logs,
            tp.running(service, {**env, "BWK_FIGURES_FROM_ROLLUP": setting}, Path(logs), 1) as (
                base,
                _pid,
            ),
        ):
            token = tp.fetch_token(base, "stadsdeel")
            with httpx.Client(
                base_url=base + tp.PREFIX, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as client:
                for label, params in (
                    ("year", {"year": 2019}),
                    ("quarter", {"year": 2019, "quarter": 2}),
                ):

                    def call(params=params):
                        response = client.get("/indicators/performance", params=params)
                        response.raise_for_status()
                        return response.content

                    answers.setdefault(label, []).append(call())
                    key = f"endpoint, {label} ({how})"
                    results[key] = timings(call, args.requests)
                    print(f"{key}: {results[key]}", file=sys.stderr)
    for label, (from_rollup, from_raw) in answers.items():
        if from_rollup != from_raw:
            raise SystemExit(f"the {label}'s answers differ between the rollup and the raw path")
    print(f"{'what':<36} {'median ms':>10} {'p95 ms':>8}")
    for label, figures in results.items():
        print(f"{label:<36} {figures['median_ms']:>10} {figures['p95_ms']:>8}")
    summary = {
        "registrations": args.registrations,
        "reused": args.reuse,
        "residents": args.residents,
        "load_seconds": load_seconds,
        "rollup_rows": rollup_rows,
        "results": results,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "command": " ".join(["python", "bench/indicators_bench.py", *sys.argv[1:]]),
    }
    print(json.dumps(summary))
    out = tp.BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / f"indicators-{int(time.time())}.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
