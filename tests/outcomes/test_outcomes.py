"""Outcomes: measurements only the resident's rooms see, hand-computed movement, suppression
for the district, targets beside the figures, and erasure that keeps the volunteering."""

import statistics
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

import api.models
from api.main import create_app
from api.outcomes.figures import tally, zrm_change
from api.outcomes.models import ZRM_DOMAINS
from api.outcomes.service import erase_outcomes, export_outcomes
from tests.helpers import DEMO_PASSWORD, assert_problem, bearer, headers_for


async def _resident(client, headers, room="multibron"):
    response = await client.post("/residents", headers=headers, json={"room": room})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _measure(client, headers, resident_id, day, score):
    """A ladder rung (an int) or matrix scores (a dict) on a day."""
    body = (
        {"instrument": "participation-ladder", "rung": score}
        if isinstance(score, int)
        else {"instrument": "zrm", "scores": score}
    )
    response = await client.post(
        f"/residents/{resident_id}/assessments", headers=headers, json={**body, "assessedOn": day}
    )
    assert response.status_code == 201, response.text
    return response.json()


LADDER = {
    **{name: [("2019-02-01", 2), ("2019-06-01", 3)] for name in ("bob", "cas", "dee", "eva")},
    "ann": [("2019-02-01", 2), ("2019-04-01", 1), ("2019-06-01", 3)],  # the middle one is skipped
    "fay": [("2018-12-20", 5), ("2019-02-02", 1), ("2019-06-01", 2)],  # 2018 is another year
    "gus": [("2019-03-01", 3), ("2019-09-01", 3)],
    "hal": [("2019-01-15", 5), ("2019-12-31", 4)],
    "ivy": [("2018-06-01", 1), ("2019-06-01", 2)],  # one measurement in 2019: not measured
    "jon": [("2019-05-05", 2), ("2019-05-05", 3)],  # one day: a correction, not a movement
    "kim": [("2019-03-01", 1), ("2019-04-01", 2)],  # at Samen Sterk
}
ZRM = {
    "ann": [
        ("2019-02-01", {"finances": 2, "housing": 3}),
        ("2019-10-01", {"finances": 4, "housing": 3}),
    ],
    # housing first scored in the middle: the domain compares 1 to 2, the whole only finances
    "bob": [
        ("2019-02-01", {"finances": 2}),
        ("2019-05-01", {"housing": 1}),
        ("2019-11-01", {"finances": 3, "housing": 2}),
    ],
    "cas": [
        ("2019-03-01", {"mental-health": 3}),
        ("2019-08-01", {"mental-health": 3, "finances": 1}),
    ],
    "gus": [
        ("2019-03-01", {"social-network": 4, "justice": 5}),
        ("2019-09-01", {"social-network": 2}),
    ],
    "dee": [("2019-04-01", {"time-use": 2}), ("2019-07-01", {"housing": 4})],  # nothing shared
}
HELPED = {"room": "samen-sterk", "activity": "forms", "occurredOn": "2019-06-30"}
TARGETS = [
    {"room": "multibron", "indicator": "ladder-up", "value": 4},
    {"room": "samen-sterk", "indicator": "ladder-up", "value": 2},
    {"room": "multibron", "indicator": "zrm-up", "value": 2},
    {"room": "multibron", "indicator": "became-volunteer", "value": 4},
]


@pytest.fixture
async def assessed_2019(
    client, coordinator, coordinator_samen_sterk, volunteer_samen_sterk, stadsdeel
):
    """Eleven residents of MultiBron, one of Samen Sterk; Ann is helped at both rooms."""
    people = {name: await _resident(client, coordinator) for name in LADDER if name != "kim"}
    people["kim"] = await _resident(client, coordinator_samen_sterk, "samen-sterk")
    for name, readings in [*LADDER.items(), *ZRM.items()]:
        for day, score in readings:
            await _measure(
                client,
                coordinator_samen_sterk if name == "kim" else coordinator,
                people[name],
                day,
                score,
            )
    await client.post(
        "/registrations",
        headers=volunteer_samen_sterk,
        json={**HELPED, "residentId": people["ann"]},
    )
    assert (
        await client.put("/outcome-targets/2019", headers=stadsdeel, json={"items": TARGETS})
    ).status_code == 200
    suggested = {}
    for name, since in (("cas", "2019-05-01"), ("hal", "2019-03-01"), ("gus", "2018-11-01")):
        response = await client.post(
            f"/residents/{people[name]}/volunteering",
            headers=coordinator,
            json={"room": "multibron", "since": since},
        )
        assert response.status_code == 201, response.text
        suggested[name] = response.json()["suggestedRung"]
    assert suggested == {"cas": 4, "hal": None, "gus": 4}  # Hal's latest rung is 4 already
    return people


def _room(body, room):
    return (
        body["totals"] if room == "totals" else next(r for r in body["rooms"] if r["room"] == room)
    )


def _instrument(body, room, instrument):
    return next(i for i in _room(body, room)["instruments"] if i["instrument"] == instrument)


def _counts(figures):
    return [figures[k] for k in ("measured", "up", "same", "down")]


async def test_the_district_sees_movement_with_small_cells_hidden(client, assessed_2019, stadsdeel):
    body = (
        await client.get("/indicators/outcomes", headers=stadsdeel, params={"year": 2019})
    ).json()
    assert body["suppressed"] is True
    assert body["period"] == {"start": "2019-01-01", "end": "2019-12-31"}
    assert body["disclosureControl"]["applied"] is True
    # Samen Sterk's 2 (Ann and Kim) hide its row; MultiBron's 8 would give them away, so
    # MultiBron's row goes too, and in the district's row 1 same and 1 down take the 7 up
    ladder = _instrument(body, "multibron", "participation-ladder")
    assert _counts(ladder) == [None] * 4
    assert _counts(_instrument(body, "samen-sterk", "participation-ladder")) == [None] * 4
    # the district's 7 up, 1 same and 1 down: the 1s would need hidden company of at least 3
    # in the row, and hiding the 7 leaves the 9 measured as the only protection: 9 people in
    # the whole district are too few to show the ladder at all, and the note says so
    assert _counts(_instrument(body, "de-handreiking", "participation-ladder")) == [None] * 4
    assert (ladder["medianDaysBetween"], ladder["target"], ladder["attainment"]) == (None, 4, None)
    total = _instrument(body, "totals", "participation-ladder")
    assert _counts(total) == [None] * 4
    assert (total["target"], total["attainment"], total["medianDaysBetween"]) == (6, None, None)
    # 4 residents on the matrix and 2 new volunteers in the whole district: too few to show
    assert _counts(_instrument(body, "totals", "zrm")) == [None] * 4
    assert "Too few people" in body["disclosureControl"]["note"]
    multibron = _room(body, "multibron")
    assert (multibron["becameVolunteer"], multibron["becameVolunteerAttainment"]) == (None, None)
    assert multibron["becameVolunteerTarget"] == 4
    assert _room(body, "totals")["becameVolunteer"] is None


async def test_the_rooms_coordinator_sees_every_cell_and_each_domain(
    client, assessed_2019, coordinator, volunteer_samen_sterk, partner
):
    body = (
        await client.get("/indicators/outcomes", headers=coordinator, params={"year": 2019})
    ).json()
    assert body["suppressed"] is False
    assert body["disclosureControl"]["applied"] is False
    assert [r["room"] for r in body["rooms"]] == ["multibron"]
    assert _counts(_instrument(body, "multibron", "participation-ladder")) == [8, 6, 1, 1]
    zrm = _instrument(body, "multibron", "zrm")
    assert _counts(zrm) == [4, 2, 1, 1]  # Ann +2, Bob +1 (finances only), Cas 0, Gus -2
    assert (zrm["medianDaysBetween"], zrm["attainment"]) == (213, 1.0)  # 153, 184, 242, 273
    domains = {d["domain"]: _counts(d) for d in zrm["domains"]}
    assert list(domains) == list(ZRM_DOMAINS)
    assert domains["finances"] == [2, 2, 0, 0]  # Cas's one finances score is no pair
    assert domains["housing"] == [2, 1, 1, 0]  # Bob 1 -> 2, Ann 3 -> 3
    assert domains["social-network"] == [1, 0, 0, 1]
    assert domains["justice"] == [0, 0, 0, 0]
    theirs = (
        await client.get(
            "/indicators/outcomes", headers=volunteer_samen_sterk, params={"year": 2019}
        )
    ).json()
    ladder = _instrument(theirs, "samen-sterk", "participation-ladder")
    assert (_counts(ladder), ladder["medianDaysBetween"]) == ([2, 2, 0, 0], 75.5)  # Ann and Kim
    forbidden = {"year": 2019, "room": "samen-sterk"}
    assert_problem(
        await client.get("/indicators/outcomes", headers=coordinator, params=forbidden), 403
    )
    assert_problem(
        await client.get("/indicators/outcomes", headers=partner, params={"year": 2019}), 403
    )


async def test_outcomes_as_csv_for_excel(client, assessed_2019, stadsdeel):
    params = {"year": 2019, "room": "multibron", "format": "csv"}
    response = await client.get("/indicators/outcomes", headers=stadsdeel, params=params)
    assert response.headers["content-type"].startswith("text/csv")
    assert "uitkomsten-2019.csv" in response.headers["content-disposition"]
    lines = response.content.decode("utf-8").split("\r\n")
    assert lines[0].startswith("\ufeffjaar;kamer;indicator;domein;gemeten;omhoog")
    # hidden: empty; the Dutch labels beside the codes
    assert "2019;multibron;participation-ladder;;;;;;;4;;;MultiBron;Participatieladder" in lines
    assert "2019;totaal;participation-ladder;;;;;;;6;;;Totaal;Participatieladder" in lines
    assert "2019;totaal;became-volunteer;;;;;;;4;;;Totaal;Nieuwe vrijwilligers" in lines


async def test_no_one_outside_the_residents_rooms_reads_a_measurement(
    client, volunteer, volunteer_samen_sterk, coordinator_samen_sterk, admin
):
    ann = await _resident(client, volunteer)
    await _measure(client, volunteer, ann, "2019-02-01", 3)
    url = f"/residents/{ann}/assessments"
    assert len((await client.get(url, headers=volunteer)).json()["items"]) == 1
    assert_problem(await client.get(url, headers=volunteer_samen_sterk), 404)
    body = {"instrument": "participation-ladder", "assessedOn": "2019-03-01", "rung": 4}
    assert_problem(await client.post(url, headers=volunteer_samen_sterk, json=body), 404)
    for who in ("admin", "stadsdeel", "madi"):
        headers = await headers_for(client, who)
        assert_problem(await client.get(url, headers=headers), 403)
        assert_problem(await client.post(url, headers=headers, json=body), 403)
    volunteering = {"room": "multibron", "since": "2019-05-01"}
    assert_problem(
        await client.post(f"/residents/{ann}/volunteering", headers=volunteer, json=volunteering),
        403,
    )
    assert_problem(
        await client.post(
            f"/residents/{ann}/volunteering", headers=coordinator_samen_sterk, json=volunteering
        ),
        404,
    )
    assert_problem(
        await client.get(f"/residents/{ann}/volunteering", headers=volunteer_samen_sterk), 404
    )
    events = (await client.get("/audit-events", headers=admin, params={"residentId": ann})).json()
    assert {"assessment.create", "assessment.list"} <= {e["action"] for e in events["items"]}


async def test_a_restricted_resident_gets_no_new_measurements(client, coordinator):
    ann = await _resident(client, coordinator)
    await client.put(
        f"/residents/{ann}/restriction", headers=coordinator, json={"restricted": True}
    )
    body = {"instrument": "participation-ladder", "assessedOn": "2019-03-01", "rung": 4}
    assert_problem(
        await client.post(f"/residents/{ann}/assessments", headers=coordinator, json=body), 409
    )
    volunteering = {"room": "multibron", "since": "2019-05-01"}
    assert_problem(
        await client.post(f"/residents/{ann}/volunteering", headers=coordinator, json=volunteering),
        409,
    )
    assert (
        await client.get(f"/residents/{ann}/assessments", headers=coordinator)
    ).status_code == 200


TOMORROW = (date.today() + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"instrument": "participation-ladder", "assessedOn": "2019-03-01", "rung": 7}, {"rung"}),
        ({"instrument": "zrm", "assessedOn": "2019-03-01", "scores": {"money": 3}}, {"scores"}),
        ({"instrument": "zrm", "assessedOn": "2019-03-01", "scores": {"housing": 0}}, {"scores"}),
        ({"instrument": "zrm", "assessedOn": "2019-03-01", "scores": {}}, {"scores"}),
        ({"instrument": "zrm", "assessedOn": "2019-03-01", "rung": 2}, {"rung", "scores"}),
        (
            {"instrument": "participation-ladder", "assessedOn": TOMORROW, "rung": 9},
            {"assessedOn", "rung"},
        ),
        ({"instrument": "participation-ladder", "assessedOn": "2019-03-01"}, {"rung"}),
        ({"instrument": "weight", "assessedOn": "2019-03-01", "rung": 2}, {"instrument"}),
    ],
)
async def test_bad_measurements_are_400s_naming_every_field(client, body, names, coordinator):
    ann = await _resident(client, coordinator)
    problem = assert_problem(
        await client.post(f"/residents/{ann}/assessments", headers=coordinator, json=body), 400
    )
    assert {p["name"] for p in problem["invalidParams"]} == names
    assert "money" not in str(problem)  # a client's key is never echoed


async def test_a_long_history_pages_and_erasure_keeps_only_the_volunteering(
    app, client, coordinator, coordinator_samen_sterk
):
    ann = await _resident(client, coordinator)
    for day, rung in (("2019-01-10", 1), ("2019-02-10", 2), ("2019-03-10", 3)):
        await _measure(client, coordinator, ann, day, rung)
    url = f"/residents/{ann}/assessments"
    first = (await client.get(url, headers=coordinator, params={"limit": 2})).json()
    rest = (
        await client.get(url, headers=coordinator, params={"cursor": first["nextCursor"]})
    ).json()
    assert [a["rung"] for a in first["items"] + rest["items"]] == [1, 2, 3]
    assert rest["nextCursor"] is None
    assert_problem(await client.get(url, headers=coordinator, params={"cursor": "bm9wZQ"}), 400)
    since = {"room": "multibron", "since": "2019-04-01"}
    await client.post(f"/residents/{ann}/volunteering", headers=coordinator, json=since)
    assert_problem(
        await client.post(f"/residents/{ann}/volunteering", headers=coordinator, json=since), 409
    )
    later = {"room": "samen-sterk", "since": TOMORROW}
    await client.post(
        "/registrations", headers=coordinator_samen_sterk, json={**HELPED, "residentId": ann}
    )
    assert_problem(
        await client.post(
            f"/residents/{ann}/volunteering", headers=coordinator_samen_sterk, json=later
        ),
        400,
    )
    async with app.state.engine.begin() as conn:
        unscored = sa.text("SELECT count(*) FROM assessment WHERE scores IS NULL")
        assert (await conn.execute(unscored)).scalar_one() == 3  # SQL NULL, not JSON null
        exported = await export_outcomes(conn, uuid.UUID(ann))
        await erase_outcomes(conn, uuid.UUID(ann))
    assert [a["rung"] for a in exported["assessments"]] == [1, 2, 3]
    assert [(v["room"], v["since"]) for v in exported["volunteering"]] == [
        ("multibron", date(2019, 4, 1))
    ]
    assert (await client.get(url, headers=coordinator)).json()["items"] == []
    kept = (await client.get(f"/residents/{ann}/volunteering", headers=coordinator)).json()["items"]
    assert len(kept) == 1


async def test_outcome_targets_are_read_per_room_and_set_per_year_by_the_district(
    client, stadsdeel, volunteer_samen_sterk, coordinator, admin
):
    assert (
        await client.put("/outcome-targets/2020", headers=stadsdeel, json={"items": TARGETS})
    ).status_code == 200
    again = {"items": TARGETS[:1]}
    replaced = (await client.put("/outcome-targets/2020", headers=stadsdeel, json=again)).json()
    assert [(t["room"], t["indicator"], t["value"]) for t in replaced["items"]] == [
        ("multibron", "ladder-up", 4)
    ]
    assert (
        await client.get("/outcome-targets", headers=volunteer_samen_sterk, params={"year": 2020})
    ).json()["items"] == []
    for bad in (
        [{"room": "atlantis", "indicator": "ladder-up", "value": 1}],
        [{"room": "multibron", "indicator": "happiness", "value": 1}],
        [{"room": "multibron", "indicator": "zrm-up", "value": -1}],
        [TARGETS[0], TARGETS[0]],
    ):
        assert_problem(
            await client.put("/outcome-targets/2020", headers=stadsdeel, json={"items": bad}), 400
        )
    assert_problem(await client.put("/outcome-targets/2020", headers=coordinator, json=again), 403)
    events = await client.get(
        "/audit-events", headers=admin, params={"action": "outcome_targets.replace"}
    )
    assert len(events.json()["items"]) == 2


SCORES = st.dictionaries(st.sampled_from(ZRM_DOMAINS), st.integers(1, 5), min_size=1)


@given(SCORES, SCORES, st.dictionaries(st.sampled_from(ZRM_DOMAINS), st.integers(1, 5)))
def test_the_matrix_compares_only_the_domains_both_measurements_score(first, latest, extra):
    change = zrm_change(first, latest)
    common = first.keys() & latest.keys()
    assert (change is None) == (not common)
    if change is not None:
        assert zrm_change(latest, first) == -change  # swapping the two turns up into down
        assert zrm_change(first, first) == 0
        only_latest = {d: s for d, s in extra.items() if d not in first}
        assert zrm_change(first, {**latest, **only_latest}) == change  # new domains do not count
        if all(latest[d] >= first[d] for d in common):
            assert change >= 0


@given(st.lists(st.one_of(st.none(), st.integers(-20, 20))))
def test_every_comparable_resident_is_counted_once(changes):
    counts = tally(changes)
    assert counts["measured"] == counts["up"] + counts["same"] + counts["down"]
    assert counts["measured"] == sum(c is not None for c in changes)
    assert counts["up"] == tally(-c if c is not None else None for c in changes)["down"]


DAYS = st.sampled_from(
    [
        date(2018, 12, 31),
        date(2019, 1, 1),
        date(2019, 6, 1),
        date(2019, 6, 2),
        date(2019, 12, 31),
        date(2020, 1, 1),
    ]
)
READING = st.one_of(st.integers(1, 6), SCORES)


def _independent_count(readings):
    """measured, up, same, down and median days per instrument and domain, counted plainly."""
    series = {}
    for order, (who, day, value) in enumerate(readings):
        if day.year != 2019:
            continue
        keys = (
            [("participation-ladder", value)]
            if isinstance(value, int)
            else [("zrm", value), *value.items()]
        )
        for key, point in keys:
            series.setdefault(key, {}).setdefault(who, []).append((day, order, point))
    out = {}
    for key, by_resident in series.items():
        changes, days = [], []
        for points in by_resident.values():
            points.sort(key=lambda p: p[:2])
            (first_day, _, first), (latest_day, _, latest) = points[0], points[-1]
            if first_day == latest_day:
                continue
            if key == "zrm":
                common = [d for d in first if d in latest]
                change = sum(latest[d] - first[d] for d in common) if common else None
            else:
                change = latest - first
            if change is not None:
                changes.append(change)
                days.append((latest_day - first_day).days)
        counts = [
            len(changes),
            sum(c > 0 for c in changes),
            sum(c == 0 for c in changes),
            sum(c < 0 for c in changes),
        ]
        out[key] = (counts, statistics.median(days) if days else None)
    return out


def test_the_sql_picks_the_same_first_and_latest_as_a_plain_count(db, app_settings):
    application = create_app(app_settings)
    assessment, resident, resident_room = (
        api.models.metadata.tables[n] for n in ("assessment", "resident", "resident_room")
    )
    with (
        TestClient(application, base_url="http://test/api/v1") as client,
        db.engine.connect() as conn,
    ):
        multibron = conn.execute(
            sa.text("SELECT id FROM room WHERE slug = 'multibron'")
        ).scalar_one()
        form = {
            "grant_type": "password",
            "username": "coordinator.multibron",
            "password": DEMO_PASSWORD,
        }
        headers = bearer(client.post("/auth/token", data=form).json()["access_token"])

        @settings(max_examples=25, database=None)
        @given(
            st.integers(1, 4).flatmap(
                lambda n: st.lists(st.tuples(st.integers(0, n - 1), DAYS, READING), max_size=20)
            )
        )
        def check(readings):
            now, ids = datetime.now(UTC), [uuid.uuid4() for _ in range(4)]
            with db.engine.begin() as tx:
                tx.execute(assessment.delete())
                tx.execute(resident_room.delete())
                tx.execute(resident.delete())
                person = {"languages": [], "home_room_id": multibron, "created_at": now}
                tx.execute(resident.insert(), [{"id": i, **person, "updated_at": now} for i in ids])
                tx.execute(
                    resident_room.insert(),
                    [{"resident_id": i, "room_id": multibron, "since": now.date()} for i in ids],
                )
                for order, (who, day, value) in enumerate(readings):
                    ladder = isinstance(value, int)
                    tx.execute(
                        assessment.insert().values(
                            id=uuid.uuid4(),
                            resident_id=ids[who],
                            instrument="participation-ladder" if ladder else "zrm",
                            assessed_on=day,
                            rung=value if ladder else None,
                            scores=sa.null() if ladder else value,
                            room_id=multibron,
                            recorded_by=uuid.uuid4(),
                            created_at=now + timedelta(seconds=order),
                        )
                    )
            body = client.get("/indicators/outcomes", headers=headers, params={"year": 2019}).json()
            expected = _independent_count(readings)
            for figures in body["totals"]["instruments"]:
                counts, median = expected.get(figures["instrument"], ([0, 0, 0, 0], None))
                assert (_counts(figures), figures["medianDaysBetween"]) == (counts, median)
                for domain in figures["domains"]:
                    assert (
                        _counts(domain) == expected.get(domain["domain"], ([0, 0, 0, 0], None))[0]
                    )

        check()
