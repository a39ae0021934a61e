"""What the presence rollup's triggers cost a write, on PostgreSQL, in one run.

    .venv/bin/python bench/rollup_write_cost.py [--registrations 200000] [--writes 400]

Loads registrations into a fresh database (bench/indicators_bench.py's data), then times,
in alternating rounds with the triggers in place and dropped (the same connection, the same
data): one registration for a resident in its own transaction (INSERT and COMMIT, the write
of POST /registrations), and an import's batch (COPY of 5,000 rows and COMMIT). Prints the
median and p95 of each in milliseconds, and the rollup's agreement with the registrations
after the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import indicators_bench as ib
import throughput as tp

from api.indicators import rollup

COLUMNS = (
    "id, room_id, activity_id, occurred_on, resident_id, headcount, created_at, updated_at, version"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registrations", type=int, default=200_000)
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--writes", type=int, default=400, help="single writes per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each kind")
    parser.add_argument("--database-url", default=tp.ADMIN_URL)
    args = parser.parse_args()
    url = tp.fresh_database(args.database_url, "bwk_bench_rollup_writes")
    env = {
        **os.environ,
        "BWK_MODE": "demo",
        "BWK_DATABASE_URL": url,
        "BWK_LOG_LEVEL": tp.SERVICE_LOG_LEVEL,
    }
    tp.bwk(env, "migrate")
    tp.bwk(env, "seed", "--demo")
    ib.load(url, args.registrations, args.residents)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    rng = random.Random(11)
    samples: dict[str, list[float]] = {}
    with psycopg.connect(dsn) as conn:
        rooms = [r[0] for r in conn.execute("SELECT id FROM room")]
        activities = [r[0] for r in conn.execute("SELECT id FROM activity")]
        residents = [r[0] for r in conn.execute("SELECT id FROM resident")]
        conn.commit()

        def row(resident: uuid.UUID | None) -> tuple[object, ...]:
            now = datetime.now(UTC)
            day = date(2019, 1, 1) + timedelta(days=rng.randrange(730))
            return (
                uuid.uuid4(),
                rng.choice(rooms),
                rng.choice(activities),
                day,
                resident,
                1 if resident else rng.randint(2, 20),
                now,
                now,
                1,
            )

        def single() -> None:
            conn.execute(
                f"INSERT INTO registration ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                row(rng.choice(residents)),
            )
            conn.commit()

        def batch() -> None:
            with conn.cursor().copy(f"COPY registration ({COLUMNS}) FROM STDIN") as copy:
                for _ in range(5000):
                    copy.write_row(row(rng.choice(residents) if rng.random() < 0.9 else None))
            conn.commit()

        for _ in range(args.rounds):
            for triggers in ("with triggers", "without triggers"):
                statements = (
                    rollup.create_triggers("postgresql")
                    if triggers == "with triggers"
                    else rollup.drop_triggers("postgresql")
                )
                for statement in statements:
                    conn.execute(statement)  # type: ignore[arg-type]
                conn.commit()
                for what, call, n in (
                    ("one registration", single, args.writes),
                    ("COPY 5000", batch, 3),
                ):
                    for _ in range(n):
                        started = time.perf_counter()
                        call()
                        samples.setdefault(f"{what}, {triggers}", []).append(
                            (time.perf_counter() - started) * 1000
                        )
        # the rounds without triggers left the rollup behind: remade, then compared
        for statement in rollup.drop_triggers("postgresql"):
            conn.execute(statement)  # type: ignore[arg-type]
        for statement in [
            *rollup.rebuild_statements("postgresql"),
            *rollup.create_triggers("postgresql"),
        ]:
            conn.execute(statement)  # type: ignore[arg-type]
        conn.commit()
        for _ in range(50):
            single()
        batch()
        differences = conn.execute(rollup.difference_query("postgresql")).fetchall()  # type: ignore[arg-type]
    results = {}
    for label, values in samples.items():
        values.sort()
        results[label] = {
            "median_ms": round(statistics.median(values), 2),
            "p95_ms": round(values[int(0.95 * (len(values) - 1))], 2),
            "n": len(values),
        }
    print(f"{'what':<36} {'median ms':>10} {'p95 ms':>8} {'n':>6}")
    for label, figures in results.items():
        print(f"{label:<36} {figures['median_ms']:>10} {figures['p95_ms']:>8} {figures['n']:>6}")
    print(f"rollup after the writes with triggers: {len(differences)} differing rows")
    print(
        json.dumps(
            {
                "registrations": args.registrations,
                "results": results,
                "differences": len(differences),
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "command": " ".join(["python", "bench/rollup_write_cost.py", *sys.argv[1:]]),
            }
        )
    )
    if differences:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
