"""How many figures the district does not see, before (per-row suppression) and after (one
disclosure control per period), on a synthetic 2019 the size of the report's.

    .venv/bin/python bench/disclosure_figures.py

Loads into a fresh SQLite database 1,400 residents (one in seven visiting two rooms, ages
and postcode areas skewed as in Zuidoost), 1 to 8 registrations each over 2019, 40 groups,
ladder pairs for 300 residents and 25 new volunteers, then counts the nulls in each answer
for the stadsdeel, for the year, Q1 and March.
"""

from __future__ import annotations

import random
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from api.main import create_app
from api.settings import Mode, Settings
from tests import databases

ROOMS = ["casa-jepie-makandra", "multibron", "de-handreiking", "samen-sterk"]
WEIGHTS = [5, 4, 3.5, 2]
BANDS = {"0-17": 2006, "18-26": 1996, "27-44": 1982, "45-66": 1962, "67+": 1948}


def old_row(cells: dict[str, int], total: int) -> int:
    """Nulls of the former per-row rule (api/indicators/suppression.py before this change)."""
    if 0 < total < 5:
        return len(cells) + 1
    hidden = {g for g, n in cells.items() if 0 < n < 5}
    if len(hidden) == 1 and any(n > 0 for g, n in cells.items() if g not in hidden):
        hidden.add("next")
    return len(hidden)


def load(db: databases.TestDatabase) -> None:
    import sqlalchemy as sa

    rng, now = random.Random(2019), datetime.now(UTC)
    with db.engine.begin() as conn:
        room_id = dict(conn.execute(sa.text("SELECT slug, id FROM room")).all())
        acts = [i for (i,) in conn.execute(sa.text("SELECT id FROM activity ORDER BY position"))]
        residents, served, regs, measured, volunteers = [], [], [], [], []
        for n in range(1400):
            rid = uuid.uuid4()
            home = rng.choices(ROOMS, WEIGHTS)[0]
            rooms = [home] + ([rng.choice([r for r in ROOMS if r != home])] if n % 7 == 0 else [])
            band = rng.choices(list(BANDS), [2, 8, 30, 45, 15])[0]
            area = rng.choices(
                ["1101", "1102", "1103", "1104", "1106", None], [30, 25, 20, 15, 2, 8]
            )
            residents.append(
                {
                    "id": rid,
                    "code": f"S{n:04d}-XY",
                    "languages": [],
                    "home_room_id": room_id[home],
                    "birth_year": BANDS[band] if rng.random() > 0.05 else None,
                    "postcode_area": area[0],
                    "created_at": now,
                    "updated_at": now,
                }
            )
            served += [
                {"resident_id": rid, "room_id": room_id[r], "since": date(2019, 1, 1)}
                for r in rooms
            ]
            for _ in range(rng.randint(1, 8)):
                regs.append(
                    {
                        "id": uuid.uuid4(),
                        "room_id": room_id[rng.choice(rooms)],
                        "activity_id": rng.choices(acts, [6, 3, 2, 1, 1, 6, 2, 0.5])[0],
                        "occurred_on": date(2019, 1, 1) + timedelta(days=rng.randint(0, 364)),
                        "resident_id": rid,
                        "headcount": 1,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
            if n < 300:
                first, latest = rng.randint(1, 5), rng.randint(1, 6)
                for rung, day in ((first, date(2019, 2, 1)), (latest, date(2019, 10, 1))):
                    measured.append(
                        {
                            "id": uuid.uuid4(),
                            "resident_id": rid,
                            "room_id": room_id[home],
                            "instrument": "participation-ladder",
                            "assessed_on": day,
                            "rung": rung,
                            "recorded_by": uuid.uuid4(),
                            "created_at": now,
                        }
                    )
            if 300 <= n < 325:
                volunteers.append(
                    {
                        "id": uuid.uuid4(),
                        "resident_id": rid,
                        "room_id": room_id[home],
                        "since": date(2019, 6, 1),
                        "recorded_by": uuid.uuid4(),
                        "created_at": now,
                    }
                )
        for _ in range(40):
            regs.append(
                {
                    "id": uuid.uuid4(),
                    "room_id": room_id[rng.choice(ROOMS)],
                    "activity_id": acts[0],
                    "occurred_on": date(2019, 1, 1) + timedelta(days=rng.randint(0, 364)),
                    "resident_id": None,
                    "headcount": rng.randint(5, 30),
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
        from api.outcomes.models import Assessment, Volunteering
        from api.registrations.models import Registration
        from api.residents.models import Resident, ResidentRoom

        for model, rows in (
            (Resident, residents),
            (ResidentRoom, served),
            (Registration, regs),
            (Assessment, measured),
            (Volunteering, volunteers),
        ):
            conn.execute(model.__table__.insert(), rows)  # type: ignore[attr-defined]


def nulls(value: object) -> int:
    if value is None:
        return 1
    if isinstance(value, dict):
        return sum(nulls(v) for k, v in value.items() if k in FIGURES or isinstance(v, list | dict))
    if isinstance(value, list):
        return sum(nulls(v) for v in value)
    return 0


FIGURES = {
    "realised",
    "realisedSumOfRooms",
    "total",
    "participants",
    "measured",
    "up",
    "same",
    "down",
    "becameVolunteer",
}


def main() -> None:
    db = databases.create("sqlite")
    databases.migrate(db.engine)
    databases.seed_demo(db.engine)
    load(db)
    settings = Settings(mode=Mode.demo, database_url=db.url, **databases.FAST_HASHING)
    with TestClient(create_app(settings), base_url="http://test") as c:

        def token(user: str) -> dict[str, str]:
            form = {"grant_type": "password", "username": user, "password": "demo-password"}
            return {
                "Authorization": "Bearer "
                + c.post("/api/v1/auth/token", data=form).json()["access_token"]
            }

        admin = token("admin")
        made = c.post(
            "/api/v1/users",
            headers=admin,
            json={
                "username": "all.rooms",
                "displayName": "All",
                "role": "coordinator",
                "rooms": ROOMS,
            },
        ).json()
        form = {
            "grant_type": "password",
            "username": "all.rooms",
            "password": made["initialPassword"],
        }
        full = {
            "Authorization": "Bearer "
            + c.post("/api/v1/auth/token", data=form).json()["access_token"]
        }
        district = token("stadsdeel")
        for label, extra in (("year", {}), ("Q1", {"quarter": 1}), ("March", {"month": 3})):
            for path, more in (
                ("performance", {}),
                ("participants", {"by": "age-band"}),
                ("participants", {"by": "postcode-area"}),
                ("outcomes", {}),
            ):
                if path == "outcomes" and extra:
                    continue
                params = {"year": 2019, **extra, **more}
                after = c.get(f"/api/v1/indicators/{path}", headers=district, params=params).json()
                seen = c.get(f"/api/v1/indicators/{path}", headers=full, params=params).json()
                before, figures = 0, 0
                if path == "participants":
                    for row in [*seen["rooms"], seen["district"]]:
                        cells = {x["group"]: x["participants"] for x in row["cells"]}
                        before += old_row(cells, row["total"])
                        figures += len(cells) + 1
                elif path == "outcomes":
                    for row in [*seen["rooms"], seen["totals"]]:
                        for i in row["instruments"]:
                            for f in [i, *i["domains"]]:
                                before += old_row(
                                    {k: f[k] for k in ("up", "same", "down")}, f["measured"]
                                )
                                figures += 4
                        figures += 1
                else:
                    figures = sum(len(r["indicators"]) for r in seen["rooms"]) + 2 * len(
                        seen["totals"]["indicators"]
                    )
                print(
                    f"{label:5} {path + ' ' + more.get('by', ''):28} figures {figures:4}  "
                    f"hidden before {before:4}  after {nulls(after):4}  "
                    f"note: {after['disclosureControl']['note'][:60]}"
                )
    databases.dispose(db)


if __name__ == "__main__":
    main()
