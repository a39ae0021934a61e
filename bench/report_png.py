"""The accountability document for 2019 as the stadsdeel sees it, rendered by headless
Chromium to docs/accountability-2019.png (the picture in the README).

    .venv/bin/python bench/report_png.py                # a demo database with a synthetic 2019
    .venv/bin/python bench/report_png.py --base-url http://127.0.0.1:8000   # a running demo

Without --base-url it makes a fresh SQLite database with the demo data and the synthetic 2019
of bench/year_2019.py (registrations, measurements, volunteers, referrals), and asks the app
in process. Needs `chromium` on the PATH (apt-get install -y chromium).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PATH = "/api/v1/reports/accountability"


def fetch(client: httpx.Client, year: int, password: str) -> str:
    form = {"grant_type": "password", "username": "stadsdeel", "password": password}
    token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
    started = time.perf_counter()
    response = client.get(PATH, params={"year": year}, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    print(f"document: {len(response.text):,} bytes in {time.perf_counter() - started:.2f} s")
    return response.text


def in_process(year: int) -> str:
    from starlette.testclient import TestClient

    from api.main import create_app
    from api.settings import Mode, Settings
    from bench import year_2019
    from tests import databases

    db = databases.create("sqlite")
    try:
        databases.migrate(db.engine)
        databases.seed_demo(db.engine)
        year_2019.load(db)
        settings = Settings(mode=Mode.demo, database_url=db.url, **databases.FAST_HASHING)
        with TestClient(create_app(settings), base_url="http://test") as client:
            fetch(client, year, "demo-password")  # the first draws load matplotlib's fonts
            return fetch(client, year, "demo-password")
    finally:
        databases.dispose(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running demo (else one in process)")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--year", type=int, default=2019)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "accountability-2019.png")
    parser.add_argument("--height", type=int, default=6600)  # the whole year on one page
    args = parser.parse_args()
    if args.base_url:
        with httpx.Client(base_url=args.base_url, timeout=60) as client:
            html = fetch(client, args.year, args.password)
    else:
        html = in_process(args.year)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "accountability.html"
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--screenshot={args.out}",
                f"--window-size=1240,{args.height}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
