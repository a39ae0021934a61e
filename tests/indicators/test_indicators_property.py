"""Every figure shown equals a plain-Python count of the same registrations, for any mix:
residents visiting several rooms, anonymous groups, voided registrations, erased
residents, and the edges of quarters and months (Amsterdam calendar dates)."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.calendar import period
from api.registrations.models import Registration
from api.residents.models import Resident, ResidentRoom

# slow: hypothesis: many random years counted twice
pytestmark = pytest.mark.slow

RESIDENT = Resident.__table__
RESIDENT_ROOM = ResidentRoom.__table__
REGISTRATION = Registration.__table__

ROOMS = ["casa-jepie-makandra", "de-handreiking", "multibron", "samen-sterk"]
EDGES = [
    date(2018, 12, 31),
    date(2019, 1, 1),
    date(2019, 3, 31),
    date(2019, 4, 1),
    date(2019, 6, 30),
    date(2019, 7, 1),
    date(2019, 9, 30),
    date(2019, 10, 1),
    date(2019, 12, 31),
    date(2020, 1, 1),
    date(2019, 2, 28),
    date(2019, 3, 1),
]
DAYS = st.one_of(
    st.sampled_from(EDGES),
    st.integers(0, 364).map(lambda n: date(2019, 1, 1) + timedelta(days=n)),
)


@st.composite
def scenarios(draw):
    residents = draw(st.lists(st.booleans(), min_size=0, max_size=8))  # True: erased later
    registration = st.fixed_dictionaries(
        {
            "room": st.sampled_from(ROOMS),
            "activity": st.integers(0, 7),
            "day": DAYS,
            "resident": st.one_of(st.none(), st.integers(0, max(len(residents) - 1, 0)))
            if residents
            else st.none(),
            "headcount": st.integers(1, 30),
            "voided": st.booleans(),
        }
    )
    registrations = draw(st.lists(registration, max_size=40))
    which = draw(st.sampled_from(["year", "quarter", "month"]))
    number = draw(st.integers(1, 4 if which == "quarter" else 12))
    rooms = draw(
        st.one_of(
            st.just([]), st.lists(st.sampled_from(ROOMS), min_size=1, max_size=3, unique=True)
        )
    )
    return residents, registrations, which, number, rooms


def expected(regs, residents, start, end, activities, units, rooms):
    live = [r for r in regs if not r["voided"] and start <= r["day"] <= end and r["room"] in rooms]
    per_room = {}
    for room in rooms:
        mine = [r for r in live if r["room"] == room]
        figures = {}
        for index, code in enumerate(activities):
            rows = [r for r in mine if r["activity"] == index]
            figures[code] = (
                sum(r["count"] for r in rows)
                if units[code] == "services"
                else len({r["resident"] for r in rows if r["resident"] is not None})
            )
        figures["unique-visitors"] = len({r["resident"] for r in mine if r["resident"] is not None})
        per_room[room] = figures
    totals = {}
    for index, code in enumerate(activities):
        rows = [r for r in live if r["activity"] == index]
        totals[code] = (
            sum(r["count"] for r in rows)
            if units[code] == "services"
            else len({r["resident"] for r in rows if r["resident"] is not None})
        )
    totals["unique-visitors"] = len({r["resident"] for r in live if r["resident"] is not None})
    return per_room, totals


def test_figures_match_an_independent_count(db, sync_client, sync_stadsdeel):
    client, headers = sync_client, sync_stadsdeel
    with db.engine.connect() as conn:
        room_ids = dict(conn.execute(sa.text("SELECT slug, id FROM room")).all())
        activity_rows = conn.execute(
            sa.text("SELECT id, code, target_unit FROM activity ORDER BY position")
        ).all()
    activities = [code for _, code, _ in activity_rows]
    activity_ids = [i for i, _, _ in activity_rows]
    units = {code: unit for _, code, unit in activity_rows}

    @settings(
        max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(scenarios())
    def check(scenario):
        residents, regs, which, number, rooms = scenario
        now = datetime.now(UTC)
        ids = [uuid.uuid4() for _ in residents]
        with db.engine.begin() as conn:
            for table in (REGISTRATION, RESIDENT_ROOM, RESIDENT):
                conn.execute(table.delete())
            if ids:
                conn.execute(
                    RESIDENT.insert(),
                    [
                        {
                            "id": i,
                            "code": f"T{n:02d}-XYZ"[:7],
                            "languages": [],
                            "home_room_id": room_ids["multibron"],
                            "created_at": now,
                            "updated_at": now,
                        }
                        for n, i in enumerate(ids)
                    ],
                )
            rows = []
            for r in regs:
                resident = ids[r["resident"]] if r["resident"] is not None else None
                r["count"] = 1 if resident else r["headcount"]
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "room_id": room_ids[r["room"]],
                        "activity_id": activity_ids[r["activity"]],
                        "occurred_on": r["day"],
                        "resident_id": resident,
                        "headcount": r["count"],
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                        "voided_at": now if r["voided"] else None,
                    }
                )
            if rows:
                conn.execute(REGISTRATION.insert(), rows)
            # erasure keeps the registrations, anonymous: the person's data goes
            for erased, i in zip(residents, ids, strict=True):
                if erased:
                    conn.execute(
                        RESIDENT.update().where(RESIDENT.c.id == i).values(code=None, erased_at=now)
                    )
        params = {"year": 2019, which: number} if which != "year" else {"year": 2019}
        params["room"] = rooms
        body = client.get("/api/v1/indicators/performance", headers=headers, params=params).json()
        p = period(
            2019, number if which == "quarter" else None, number if which == "month" else None
        )
        # the district roles see the whole district whatever rooms they ask for
        per_room, totals = expected(regs, residents, p.start, p.end, activities, units, ROOMS)
        assert {r["room"] for r in body["rooms"]} == set(rooms or ROOMS)
        got_rooms = {
            r["room"]: {i["indicator"]: i["realised"] for i in r["indicators"]}
            for r in body["rooms"]
        }
        for room, figures in got_rooms.items():
            assert {k: v for k, v in figures.items() if v is not None} == {
                k: v for k, v in per_room[room].items() if figures[k] is not None
            }
        got_totals = {i["indicator"]: i["realised"] for i in body["totals"]["indicators"]}
        assert {k: v for k, v in got_totals.items() if v is not None} == {
            k: v for k, v in totals.items() if got_totals[k] is not None
        }
        sums = {i["indicator"]: i["realisedSumOfRooms"] for i in body["totals"]["indicators"]}
        for k, v in sums.items():
            assert v is None or v == sum(per_room[room][k] for room in ROOMS)
        # no count of 1 to 4 people is shown to the district
        people = [
            i["realised"]
            for r in [*body["rooms"], body["totals"]]
            for i in r["indicators"]
            if i["unit"] == "participants"
        ]
        assert not [n for n in people if n is not None and 0 < n < 5]

    check()
