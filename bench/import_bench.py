"""How long `bwk import` takes for a room's list of 100,000 rows on PostgreSQL.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--database-url URL]

Makes a fresh database, migrates and seeds it, adds 5,000 residents, writes a CSV with
a realistic mix (70% known residents by code, 25% anonymous groups, 5% new residents by
name), then times the whole `bwk import` command (read, validate, insert, commit).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from api.residents.codes import generate

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
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


def fresh_database(admin_url: str, name: str) -> str:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def bwk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "bwk"), *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )


def add_residents(url: str, count: int) -> list[str]:
    engine = sa.create_engine(url)
    codes = set()
    while len(codes) < count:
        codes.add(generate())
    now = datetime.now(UTC)
    with engine.begin() as conn:
        room_id = conn.execute(sa.text("SELECT id FROM room WHERE slug = 'multibron'")).scalar()
        conn.execute(
            sa.text(
                "INSERT INTO resident (id, code, languages, home_room_id, created_at, updated_at)"
                " VALUES (:id, :code, '[]', :room, :now, :now)"
            ),
            [{"id": uuid.uuid4(), "code": c, "room": room_id, "now": now} for c in codes],
        )
    engine.dispose()
    return sorted(codes)


def write_csv(path: Path, rows: int, codes: list[str]) -> None:
    first = date(2019, 1, 1)
    span = (date.today() - first).days
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["date", "activity", "residentCode", "residentName", "headcount", "note"])
        for i in range(rows):
            day = (first + timedelta(days=random.randrange(span))).isoformat()
            activity = random.choice(ACTIVITIES)
            kind = random.random()
            if kind < 0.70:
                out.writerow([day, activity, random.choice(codes), "", "", ""])
            elif kind < 0.95:
                out.writerow([day, activity, "", "", random.randint(2, 25), "group"])
            else:
                out.writerow([day, activity, "", f"Bewoner {i % 2000}", "", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=ADMIN_URL, help="an admin URL to create DBs")
    args = parser.parse_args()
    random.seed(42)
    url = fresh_database(args.database_url, "bwk_bench_import")
    env = {**os.environ, "BWK_MODE": "demo", "BWK_DATABASE_URL": url, "BWK_LOG_LEVEL": "WARNING"}
    bwk(env, "migrate")
    bwk(env, "seed")
    codes = add_residents(url, 5_000)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "list.csv"
        write_csv(path, args.rows, codes)
        size = path.stat().st_size
        started = time.perf_counter()
        result = bwk(env, "import", str(path), "--room", "multibron")
        seconds = time.perf_counter() - started
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM registration")).scalar()
    engine.dispose()
    figures = {
        "rows": args.rows,
        "csv_bytes": size,
        "seconds": round(seconds, 2),
        "rows_per_second": round(args.rows / seconds),
        "stored": stored,
        "output": result.stdout.strip(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "command": "python bench/import_bench.py --rows " + str(args.rows),
    }
    print(json.dumps(figures, indent=2))
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"import-{int(time.time())}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
