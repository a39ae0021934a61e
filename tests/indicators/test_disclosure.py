"""No hidden count can be worked out: the district's analyst, with everything the stadsdeel is
shown for a period (performance, participants by age band and by postcode area, outcomes),
solves for each hidden count of someone by linear programming and finds a range at least 3
wide.

The attacker's model is exact for distinct counts across rooms: the unknowns are the numbers
of people per *set of rooms visited* and group, so a district figure is what it is (people
visiting several rooms count once) and nothing is assumed about overlaps. Participants per
activity add what is certain: a room's participants of an activity are no more than its
visitors or its services, the district's no more than the rooms' sum, and each visitor took
part in something."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from api.calendar import period as make_period
from api.outcomes.models import Assessment, Volunteering
from api.registrations.models import Registration
from api.residents.models import Resident, ResidentRoom

RESIDENT = Resident.__table__
RESIDENT_ROOM = ResidentRoom.__table__
REGISTRATION = Registration.__table__
ASSESSMENT = Assessment.__table__
VOLUNTEERING = Volunteering.__table__
ROOMS = ["casa-jepie-makandra", "de-handreiking", "multibron", "samen-sterk"]
BIRTH = {"0-17": 2005, "18-26": 1995, "27-44": 1980, "45-66": 1960, "67+": 1945, "unknown": None}
AREAS = ["1101", "1102", "1103", None]
WIDTH = 3  # a hidden count's range must span at least this much

person = st.fixed_dictionaries(
    {
        "rooms": st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True),
        # mostly one band and one area, so that the others are small cells beside big ones
        "age": st.sampled_from(["27-44"] * 4 + list(BIRTH)),
        "area": st.sampled_from(["1102"] * 4 + AREAS),
        "activities": st.lists(st.integers(0, 7), min_size=1, max_size=2, unique=True),
        "day": st.integers(0, 364),
        "ladder": st.none() | st.tuples(st.integers(1, 6), st.integers(1, 6)),
        "volunteers": st.booleans(),
    }
)
# rooms of very different sizes, so that several rooms hold cells of 1 to 4
crowd = st.tuples(
    st.lists(person, max_size=6),
    st.lists(person.map(lambda p: {**p, "rooms": [2]}), min_size=0, max_size=30),
)


def _someone(rooms, age, area="1102", ladder=None, volunteers=False):
    return {
        "rooms": rooms,
        "age": age,
        "area": area,
        "activities": [5],
        "day": 100,
        "ladder": ladder,
        "volunteers": volunteers,
    }


# the case: one small cell in a big row, the rest of the district empty or tiny
ONE_SMALL_CELL = (
    [_someone([2], "27-44", ladder=(2, 3), volunteers=True) for _ in range(12)]
    + [_someone([2], "67+", area="1101", ladder=(3, 2))]
    + [_someone([0], "18-26", volunteers=True) for _ in range(2)]
    + [_someone([1], "45-66") for _ in range(7)],
    [],
    "year",
    1,
)


@st.composite
def scenarios(draw):
    few, many = draw(crowd)
    groups = draw(
        st.lists(st.tuples(st.integers(0, 3), st.integers(0, 7), st.integers(1, 12)), max_size=4)
    )
    which = draw(st.sampled_from(["year", "year", "quarter", "month"]))
    number = draw(st.integers(1, 4 if which == "quarter" else 12))
    return few + many, groups, which, number


class Attacker:
    """Linear constraints over non-negative unknowns; ranges by linprog."""

    def __init__(self) -> None:
        self.n = 0
        self.eq: list[tuple[dict[int, float], float]] = []
        self.le: list[tuple[dict[int, float], float]] = []

    def var(self) -> dict[int, float]:
        self.n += 1
        return {self.n - 1: 1.0}

    def equal(self, expr: dict[int, float], value: float) -> None:
        self.eq.append((expr, value))

    def at_most(self, small: dict[int, float], big: dict[int, float]) -> None:
        self.le.append((plus(small, big, -1.0), 0.0))

    def matrix(self, rows):
        out = [[0.0] * self.n for _ in rows]
        for i, (expr, _) in enumerate(rows):
            for k, v in expr.items():
                out[i][k] += v
        return out or None, [b for _, b in rows] or None

    def span(self, expr: dict[int, float]) -> tuple[float, float]:
        a_eq, b_eq = self.matrix(self.eq)
        a_ub, b_ub = self.matrix(self.le)
        ends = []
        for sign in (1.0, -1.0):
            c = [0.0] * self.n
            for k, v in expr.items():
                c[k] = sign * v
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, method="highs")
            if res.status == 3:  # unbounded
                ends.append(float("inf"))
                continue
            assert res.status == 0, res.message
            ends.append(sign * res.fun)
        return ends[0], ends[1]


def plus(a: dict[int, float], b: dict[int, float], k: float = 1.0) -> dict[int, float]:
    out = dict(a)
    for key, v in b.items():
        out[key] = out.get(key, 0.0) + k * v
    return out


def total(exprs) -> dict[int, float]:
    out: dict[int, float] = {}
    for e in exprs:
        out = plus(out, e)
    return out


PATTERNS = [
    frozenset(c) for n in range(1, len(ROOMS) + 1) for c in itertools.combinations(range(4), n)
]


class Pattern:
    """One table of distinct people by room and group: unknowns per set of rooms and group."""

    def __init__(self, attacker: Attacker, groups: list[str]) -> None:
        self.x = {(p, g): attacker.var() for p in PATTERNS for g in groups}
        self.groups = groups

    def cell(self, room: int | None, group: str) -> dict[int, float]:
        return total(self.x[(p, group)] for p in PATTERNS if room is None or room in p)

    def row(self, room: int | None) -> dict[int, float]:
        return total(self.cell(room, g) for g in self.groups)

    def people(self, p) -> dict[int, float]:
        return total(self.x[(p, g)] for g in self.groups)


class Check:
    def __init__(self) -> None:
        self.attacker = Attacker()
        self.hidden: dict[str, tuple[dict[int, float], int]] = {}
        self.periods: dict[str, dict] = {}  # tag -> the unknowns attack() made for a period
        self.tag = ""

    def publish(self, name: str, expr: dict[int, float], shown, truth: int) -> None:
        name = f"{self.tag}{name}"
        if shown is None:
            self.hidden[name] = (expr, truth)
        else:
            assert shown == truth, name
            self.attacker.equal(expr, shown)

    def spans(self) -> dict[str, tuple[float, float]]:
        return {
            name: self.attacker.span(expr)
            for name, (expr, truth) in self.hidden.items()
            if truth >= 1  # 0 describes no one (CBS practice): it may be known
        }


def truths(people, live, p):
    """Plain-Python counts: per room (index or None) and group, of the people given."""
    out = defaultdict(int)
    for i in live:
        for room in [*people[i]["rooms"], None]:
            out[(room, p(people[i]))] += 1
            out[(room, None)] += 1
    return out


def days(q):
    """The days a person visits: `whens` (several), else the one `when`."""
    return q.get("whens") or [q["when"]]


def attack(people, groups, start, end, answers, check=None, tag=""):
    """The attacker's constraints from one period's answers, added to `check` (a new one by
    default) with hidden counts named after `tag`."""
    check = check or Check()
    a, check.tag = check.attacker, tag
    perf, by_age, by_area, outcomes = answers
    live = [i for i, q in enumerate(people) if any(start <= d <= end for d in days(q))]
    ages = [c["group"] for c in by_age["district"]["cells"]]
    areas = [c["group"] for c in by_area["district"]["cells"]]
    age, area = Pattern(a, ages), Pattern(a, areas)
    for p in PATTERNS:  # the same people in both breakdowns
        a.equal(plus(age.people(p), area.people(p), -1.0), 0.0)
    for table, body, key in ((age, by_age, "age"), (area, by_area, "area")):
        truth = truths(people, live, lambda q, key=key: q[key] or "unknown")
        rows = [(ROOMS.index(r["room"]), r) for r in body["rooms"]] + [(None, body["district"])]
        for room, row in rows:
            check.publish(f"visitors {room}", table.row(room), row["total"], truth[(room, None)])
            for c in row["cells"]:
                name = f"{key} {room} {c['group']}"
                check.publish(
                    name, table.cell(room, c["group"]), c["participants"], truth[(room, c["group"])]
                )
    # performance: unique visitors, participants and services per activity
    activities = [i["indicator"] for i in perf["totals"]["indicators"][:-1]]
    visitors = {r: age.row(r) for r in [0, 1, 2, 3, None]}
    part = {(r, x): a.var() for r in [0, 1, 2, 3, None] for x in activities}
    serv = {(r, x): a.var() for r in [0, 1, 2, 3] for x in activities}
    for x in activities:
        serv[(None, x)] = total(serv[(r, x)] for r in range(4))
        for r in range(4):
            a.at_most(part[(r, x)], visitors[r])
            a.at_most(part[(r, x)], serv[(r, x)])
            a.at_most(part[(r, x)], part[(None, x)])
        a.at_most(part[(None, x)], total(part[(r, x)] for r in range(4)))
        a.at_most(part[(None, x)], visitors[None])
    for r in range(4):
        a.at_most(visitors[r], total(part[(r, x)] for x in activities))
    check.periods[tag] = {"age": age, "area": area, "part": part, "serv": serv}
    taken = defaultdict(set)  # (room, activity) -> people
    services = defaultdict(int)
    for i in live:
        visits = sum(1 for d in days(people[i]) if start <= d <= end)
        for room in people[i]["rooms"]:
            for x in people[i]["activities"]:
                taken[(room, activities[x])].add(i)
                taken[(None, activities[x])].add(i)
                services[(room, activities[x])] += visits
    for room, x, n, when in groups:
        if start <= when <= end:
            services[(room, activities[x])] += n
    for r in range(4):
        for x in activities:
            services[(None, x)] += services[(r, x)]
    rows = [(ROOMS.index(r["room"]), r["indicators"]) for r in perf["rooms"]]
    rows.append((None, perf["totals"]["indicators"]))
    for room, entries in rows:
        for e in entries:
            x = e["indicator"]
            if x == "unique-visitors":
                truth = len({i for i in live if room is None or room in people[i]["rooms"]})
                check.publish(f"visitors {room}", visitors[room], e["realised"], truth)
                continue
            if e["unit"] == "participants":
                check.publish(f"{x} {room}", part[(room, x)], e["realised"], len(taken[(room, x)]))
            elif e["realised"] is not None:
                assert e["realised"] == services[(room, x)]
                a.equal(serv[(room, x)], e["realised"])
    for e in perf["totals"]["indicators"]:
        if e["realisedSumOfRooms"] is not None:
            x = e["indicator"]
            parts = []
            for room, entries in rows[:-1]:
                unit = next(f["unit"] for f in entries if f["indicator"] == x)
                parts.append(
                    visitors[room]
                    if x == "unique-visitors"
                    else (part if unit == "participants" else serv)[(room, x)]
                )
            a.equal(total(parts), e["realisedSumOfRooms"])
    if outcomes is not None:
        attack_outcomes(check, people, outcomes)
    return check


def attack_outcomes(check, people, body):
    a = check.attacker
    rows = [(ROOMS.index(r["room"]), r) for r in body["rooms"]] + [(None, body["totals"])]
    moves = Pattern(a, ["up", "same", "down"])
    became = Pattern(a, ["new"])
    truth = defaultdict(int)
    for q in people:
        for room in [*q["rooms"], None]:
            if q["ladder"] and q["ladder_days"]:
                first, latest = q["ladder"]
                move = "up" if latest > first else "down" if latest < first else "same"
                truth[(room, move)] += 1
                truth[(room, "measured")] += 1
            if q["volunteers"] and (room is None or room == q["rooms"][0]):
                truth[(room, "new")] += 1
    for room, f in rows:
        ladder = f["instruments"][0]
        check.publish(
            f"measured {room}", moves.row(room), ladder["measured"], truth[(room, "measured")]
        )
        for m in ("up", "same", "down"):
            check.publish(f"{m} {room}", moves.cell(room, m), ladder[m], truth[(room, m)])
        check.publish(
            f"became {room}", became.row(room), f["becameVolunteer"], truth[(room, "new")]
        )


def _load(db, people, groups, room_ids, activity_ids):
    now, first_day = datetime.now(UTC), date(2019, 1, 1)
    with db.engine.begin() as conn:
        for t in (ASSESSMENT, VOLUNTEERING, REGISTRATION, RESIDENT_ROOM, RESIDENT):
            conn.execute(t.delete())
        residents, served, regs, measured, volunteering = [], [], [], [], []
        for n, q in enumerate(people):
            rid = uuid.uuid4()
            rooms = [room_ids[ROOMS[r]] for r in q["rooms"]]
            residents.append(
                {
                    "id": rid,
                    "code": f"T{n:03d}-XY",
                    "languages": [],
                    "home_room_id": rooms[0],
                    "birth_year": BIRTH[q["age"]],
                    "postcode_area": q["area"],
                    "created_at": now,
                    "updated_at": now,
                }
            )
            served += [{"resident_id": rid, "room_id": r, "since": first_day} for r in rooms]
            for room, when in itertools.product(rooms, days(q)):
                for x in q["activities"]:
                    regs.append(
                        {
                            "id": uuid.uuid4(),
                            "room_id": room,
                            "activity_id": activity_ids[x],
                            "occurred_on": when,
                            "resident_id": rid,
                            "headcount": 1,
                            "created_at": now,
                            "updated_at": now,
                            "version": 1,
                        }
                    )
            if q["ladder"]:
                for rung, day in zip(q["ladder"], (date(2019, 2, 1), q["ladder_on"]), strict=True):
                    measured.append(
                        {
                            "id": uuid.uuid4(),
                            "resident_id": rid,
                            "room_id": rooms[0],
                            "instrument": "participation-ladder",
                            "assessed_on": day,
                            "rung": rung,
                            "recorded_by": uuid.uuid4(),
                            "created_at": now,
                        }
                    )
            if q["volunteers"]:
                volunteering.append(
                    {
                        "id": uuid.uuid4(),
                        "resident_id": rid,
                        "room_id": rooms[0],
                        "since": date(2019, 6, 1),
                        "recorded_by": uuid.uuid4(),
                        "created_at": now,
                    }
                )
        for room, x, n, when in groups:
            regs.append(
                {
                    "id": uuid.uuid4(),
                    "room_id": room_ids[ROOMS[room]],
                    "activity_id": activity_ids[x],
                    "occurred_on": when,
                    "resident_id": None,
                    "headcount": n,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
        for table, rows in (
            (RESIDENT, residents),
            (RESIDENT_ROOM, served),
            (REGISTRATION, regs),
            (ASSESSMENT, measured),
            (VOLUNTEERING, volunteering),
        ):
            if rows:
                conn.execute(table.insert(), rows)


def ids(db):
    """The rooms' ids by slug and the activities' ids in order."""
    with db.engine.connect() as conn:
        room_ids = dict(conn.execute(sa.text("SELECT slug, id FROM room")).all())
        activity_ids = [
            i for (i,) in conn.execute(sa.text("SELECT id FROM activity ORDER BY position"))
        ]
    return room_ids, activity_ids


# a scenario a run takes minutes over: shrinking through the database is left out
EXAMPLES = settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    phases=[Phase.explicit, Phase.generate],
)


@pytest.mark.slow
def test_no_hidden_count_can_be_worked_out_from_everything_the_district_sees(
    db, sync_client, sync_stadsdeel
):
    client, headers = sync_client, sync_stadsdeel
    room_ids, activity_ids = ids(db)
    started, seen = time.monotonic(), {"hidden": 0, "checked": 0, "narrowest": float("inf")}

    @settings(EXAMPLES, max_examples=int(os.environ.get("BWK_DISCLOSURE_EXAMPLES", "20")))
    @given(scenarios())
    @example(ONE_SMALL_CELL)
    def check(scenario):
        people, groups, which, number = scenario
        people = [dict(q) for q in people]
        first = date(2019, 1, 1)
        for q in people:
            q["when"] = first + timedelta(days=q["day"])
            q["ladder_on"] = date(2019, 11, 1)
            q["ladder_days"] = True
        groups = [(r, x, n, first + timedelta(days=30 * (n - 1))) for r, x, n in groups]
        _load(db, people, groups, room_ids, activity_ids)
        params = {"year": 2019} if which == "year" else {"year": 2019, which: number}
        p = make_period(
            2019, number if which == "quarter" else None, number if which == "month" else None
        )
        get = lambda path, **extra: client.get(  # noqa: E731
            f"/api/v1/indicators/{path}", headers=headers, params={**params, **extra}
        ).json()
        answers = (
            get("performance"),
            get("participants", by="age-band"),
            get("participants", by="postcode-area"),
            get("outcomes") if which == "year" else None,
        )
        for body in answers:
            if body is not None:
                assert body["disclosureControl"]["applied"] is True
        spans = attack(people, groups, p.start, p.end, answers).spans()
        seen["hidden"] += len(spans)
        for name, (low, high) in spans.items():
            seen["checked"] += 1
            seen["narrowest"] = min(seen["narrowest"], high - low)
            assert high - low >= WIDTH - 1e-6, (name, low, high, which, number)

    check()
    print(f"LP disclosure check: {seen} in {time.monotonic() - started:.1f}s")
    assert seen["checked"] > 0  # the data did hide counts of someone
