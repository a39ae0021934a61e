"""A year against its four quarters: the district's analyst takes the people counts it is shown
for a year and for each of its quarters (performance, participants by age band and by postcode
area; outcomes left out) and solves for each hidden count of someone by linear programming
over all five answers together.

The attacker's model is sound for people who visit on several days: per row (a room or the
district) and group, unknowns count the people by the *set of quarters* they visited in, so a
person seen in Q1 and Q3 counts once in the year (year >= each quarter, <= their sum, and
everything in between that the rows and groups share). Each period keeps the single-period
attack's unknowns (per set of rooms and group); the same people per row and set of quarters
in both breakdowns. Services are registrations: a year's are its quarters' sum. Participants
per activity: the year's at least each quarter's and at most their sum."""

from __future__ import annotations

import itertools
import json
import os
import time
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from api.calendar import period as make_period
from tests.indicators.test_disclosure import (
    EXAMPLES,
    WIDTH,
    Check,
    _load,
    _someone,
    attack,
    crowd,
    ids,
    person,
    plus,
    total,
)

QUARTERS = (1, 2, 3, 4)
SETS = [frozenset(c) for n in range(1, 5) for c in itertools.combinations(QUARTERS, n)]
ROWS = [0, 1, 2, 3, None]
FIRST = date(2019, 1, 1)


@st.composite
def year_scenarios(draw):
    """The single-period scenarios' people, each on their first day and up to three more."""
    few, many = draw(crowd)
    # and enough people in two more rooms that a quarter is not too small to protect
    for room, least in ((0, 12), (1, 12), (2, 20), (3, 12)):
        one = person.map(lambda p, r=room: {**p, "rooms": [r]})
        many += draw(st.lists(one, min_size=least, max_size=2 * least))
    people = []
    for q in few + many:
        more = draw(st.just([]) | st.just([]) | st.lists(st.integers(0, 364), max_size=3))
        people.append({**q, "days": sorted({q["day"], *more})})
    groups = draw(
        st.lists(st.tuples(st.integers(0, 3), st.integers(0, 7), st.integers(1, 12)), max_size=4)
    )
    return people, groups


def link(check: Check) -> None:
    """The year's unknowns and its quarters' as one model (see the module's docstring)."""
    a = check.attacker
    year, quarters = check.periods["Y "], [check.periods[f"Q{q} "] for q in QUARTERS]
    per_set = {}
    for kind in ("age", "area"):
        groups = year[kind].groups
        for r in ROWS:
            for g in groups:
                y = {s: a.var() for s in SETS}
                a.equal(plus(year[kind].cell(r, g), total(y.values()), -1.0), 0.0)
                for q, period in zip(QUARTERS, quarters, strict=True):
                    cell = period[kind].cell(r, g) if g in period[kind].groups else {}
                    a.equal(plus(cell, total(y[s] for s in SETS if q in s), -1.0), 0.0)
                for s in SETS:
                    per_set[(kind, r, s)] = plus(per_set.get((kind, r, s), {}), y[s])
    for r in ROWS:  # the same people per row and set of quarters in both breakdowns
        for s in SETS:
            a.equal(plus(per_set.get(("age", r, s), {}), per_set.get(("area", r, s), {}), -1), 0)
    for (r, x), part in year["part"].items():
        each = [period["part"][(r, x)] for period in quarters]
        for p in each:
            a.at_most(p, part)
        a.at_most(part, total(each))
        if r is not None:
            a.equal(plus(year["serv"][(r, x)], total(p["serv"][(r, x)] for p in quarters), -1), 0)


def spans(check: Check) -> dict[str, tuple[float, float]]:
    """Check.spans(), with the constraint matrices made once (sparse) for all the solves."""
    a = check.attacker

    def matrix(rows):
        if not rows:
            return None, None
        data, ri, ci = [], [], []
        for i, (expr, _) in enumerate(rows):
            for k, v in expr.items():
                data.append(v)
                ri.append(i)
                ci.append(k)
        return csr_matrix((data, (ri, ci)), shape=(len(rows), a.n)), np.array([b for _, b in rows])

    a_eq, b_eq = matrix(a.eq)
    a_ub, b_ub = matrix(a.le)
    out = {}
    for name, (expr, truth) in check.hidden.items():
        if truth < 1:
            continue
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(a.n)
            for k, v in expr.items():
                c[k] = sign * v
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, method="highs")
            ends.append(float("inf") if res.status == 3 else sign * res.fun)
            assert res.status in (0, 3), res.message
        out[name] = (ends[0], ends[1])
    return out


PERIODS = [("Y ", {}, make_period(2019))] + [
    (f"Q{q} ", {"quarter": q}, make_period(2019, q)) for q in QUARTERS
]


def _visiting(rooms, age, area, days, activities=(5,)):
    return {**_someone(rooms, age, area), "activities": list(activities), "days": list(days)}


# hand-made: see the report in the commit that adds them
MINIMAL = [
    # two people in one room in Q1, eight a quarter elsewhere: each visits once
    (
        [_visiting([0], "27-44", "1102", [10]) for _ in range(2)]
        + [
            _visiting([r], "27-44", "1102", [d])
            for r in range(4)
            for d in (100, 200, 300) + ((10,) if r else ())
            for _ in range(8)
        ],
        [],
    ),
    # two 67+ in a room's Q1 and six in its Q3 beside 8 of 27-44 a quarter in each room
    (
        [_visiting([0], "67+", "1101", [10]) for _ in range(2)]
        + [_visiting([0], "67+", "1101", [200]) for _ in range(6)]
        + [
            _visiting([r], "27-44", "1102", [d])
            for r in range(4)
            for d in (10, 100, 200, 300)
            for _ in range(8)
        ],
        [],
    ),
]


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="a known leak (README, Known limits): the year with its other quarters pins hidden "
    "quarter counts. Protecting the five periods together closed it here, but the months "
    "gave the quarters back and the time lines blanked whole years: left out",
)
def test_no_hidden_count_can_be_worked_out_from_a_year_and_its_quarters(
    db, sync_client, sync_stadsdeel
):
    client, headers = sync_client, sync_stadsdeel
    room_ids, activity_ids = ids(db)
    started = time.monotonic()
    seen = {"scenarios": 0, "leaking": 0, "hidden": 0, "narrowed": 0, "pinned": 0}
    seen |= {
        "finite": 0,
        "narrowest": float("inf"),
        "tightened": 0,
        "too small": 0,
        "all hidden": 0,
    }
    leaks = []

    # each generated year takes about 30 s (five periods, two attacks): 2 by default, beside
    # the two hand-made ones that leaked before the periods were protected together
    @settings(EXAMPLES, max_examples=int(os.environ.get("BWK_PERIODS_EXAMPLES", "2")))
    @given(year_scenarios())
    @example(MINIMAL[0])
    @example(MINIMAL[1])
    def check(scenario):
        people, groups = scenario
        whens = lambda q: [FIRST + timedelta(days=d) for d in q["days"]]  # noqa: E731
        people = [{**q, "whens": whens(q), "ladder_on": date(2019, 11, 1)} for q in people]
        groups = [(r, x, n, FIRST + timedelta(days=30 * (n - 1))) for r, x, n in groups]
        _load(db, people, groups, room_ids, activity_ids)
        joint, single = Check(), {}
        for tag, extra, p in PERIODS:
            get = lambda path, extra=extra, **more: client.get(  # noqa: E731
                f"/api/v1/indicators/{path}",
                headers=headers,
                params={"year": 2019, **extra, **more},
            ).json()
            answers = (
                get("performance"),
                get("participants", by="age-band"),
                get("participants", by="postcode-area"),
                None,
            )
            seen["all hidden"] += answers[1]["disclosureControl"]["note"].startswith("Too few")
            attack(people, groups, p.start, p.end, answers, joint, tag)
            single.update(spans(attack(people, groups, p.start, p.end, answers, tag=tag)))
        link(joint)
        found = spans(joint)
        for name, (low, high) in found.items():  # the model is sound: the truth fits
            assert low - 1e-6 <= joint.hidden[name][1] <= high + 1e-6, name
        seen["scenarios"] += 1
        seen["hidden"] += len(found)
        narrowed = {
            name: (single[name], (low, high))
            for name, (low, high) in found.items()
            if high - low < WIDTH - 1e-6
        }
        seen["narrowed"] += len(narrowed)
        widths = {n: hi - lo for n, (lo, hi) in found.items()}
        finite = [w for w in widths.values() if w < float("inf")]
        seen["finite"] += len(finite)
        seen["narrowest"] = min([seen["narrowest"], *finite])
        seen["tightened"] += sum(
            1 for n, w in widths.items() if w < single[n][1] - single[n][0] - 1e-6
        )
        seen["too small"] += sum(1 for n, (_, hi) in single.items() if hi == float("inf"))
        seen["pinned"] += sum(1 for _, (lo, hi) in narrowed.values() if hi - lo < 1e-6)
        if narrowed:
            seen["leaking"] += 1
            truth = {n: joint.hidden[n][1] for n in narrowed}
            leaks.append(
                {"people": scenario[0], "groups": scenario[1], "narrowed": narrowed, "truth": truth}
            )

    check()
    print(f"year and quarters LP: {seen} in {time.monotonic() - started:.1f}s")
    if os.environ.get("BWK_PERIODS_DUMP"):
        with open(os.environ["BWK_PERIODS_DUMP"], "w") as out:
            json.dump(leaks, out, default=str, indent=1)
    assert seen["hidden"] > 0
    assert not leaks, [x["narrowed"] for x in leaks[:3]]
