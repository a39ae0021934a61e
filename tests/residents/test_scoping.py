"""What a room sees of a person it serves through a code: the person, its own help and notes,
never the notes and measurements of the home room, and none of the resident's rights."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from api import seed
from api.base import JsonType, UtcDateTime
from tests import databases
from tests.conftest import BACKENDS
from tests.helpers import assert_problem, headers_for

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
HOME_NOTE = "Thuis: schulden bij de woningbouw"
VISIT_NOTE = "Kwam langs voor een formulier"


@pytest.fixture
async def noor(client, coordinator, coordinator_samen_sterk):
    """Noor, at home at MultiBron (measured there, volunteers there), who showed her code at
    Samen Sterk: Samen Sterk registered help for her and measured her once."""
    first = await client.post(
        "/registrations",
        headers=coordinator,
        json={
            "room": "multibron",
            "activity": "debt-and-budget",
            "occurredOn": "2019-03-04",
            "resident": {"name": "Noor Bakker", "contact": "06-12345678"},
            "note": HOME_NOTE,
        },
    )
    assert first.status_code == 201, first.text
    resident_id = first.json()["residentId"]
    code = (await client.get(f"/residents/{resident_id}", headers=coordinator)).json()["code"]
    url = f"/residents/{resident_id}"
    for body in (
        {"instrument": "participation-ladder", "assessedOn": "2019-03-04", "rung": 2},
        {"instrument": "zrm", "assessedOn": "2019-03-04", "scores": {"finances": 1}},
    ):
        response = await client.post(f"{url}/assessments", headers=coordinator, json=body)
        assert response.status_code == 201, response.text
        assert response.json()["room"] == "multibron"
    volunteering = {"room": "multibron", "since": "2019-05-01"}
    assert (
        await client.post(f"{url}/volunteering", headers=coordinator, json=volunteering)
    ).status_code == 201
    helped = await client.post(
        "/registrations",
        headers=coordinator_samen_sterk,
        json={
            "room": "samen-sterk",
            "activity": "forms",
            "occurredOn": YESTERDAY,
            "residentCode": code,
            "note": VISIT_NOTE,
        },
    )
    assert helped.status_code == 201, helped.text
    own = {"instrument": "participation-ladder", "assessedOn": "2019-06-01", "rung": 3}
    measured = await client.post(f"{url}/assessments", headers=coordinator_samen_sterk, json=own)
    assert measured.status_code == 201, measured.text
    assert measured.json()["room"] == "samen-sterk"
    return {
        "id": resident_id,
        "url": url,
        "home_registration": first.json()["id"],
        "visit_registration": helped.json()["id"],
        "mb": coordinator,
        "ss": coordinator_samen_sterk,
    }


async def test_a_room_that_helped_by_code_cannot_export_erase_or_restrict(client, noor):
    ss, url = noor["ss"], noor["url"]
    assert (await client.get(url, headers=ss)).status_code == 200  # it still sees who she is
    assert_problem(await client.get(f"{url}/export", headers=ss), 403)
    assert_problem(await client.delete(url, headers=ss), 403)
    assert_problem(
        await client.put(f"{url}/restriction", headers=ss, json={"restricted": True}), 403
    )
    shown = (await client.get(url, headers=noor["mb"])).json()
    assert shown["name"] == "Noor Bakker"
    assert shown["restricted"] is False
    # a room that does not serve her does not learn she exists
    other = await headers_for(client, "coordinator.de-handreiking")
    assert_problem(await client.get(f"{url}/export", headers=other), 404)
    assert_problem(await client.delete(url, headers=other), 404)


async def test_the_home_room_still_exports_restricts_and_erases(client, noor):
    mb, url = noor["mb"], noor["url"]
    exported = (await client.get(f"{url}/export", headers=mb)).json()
    assert {r["note"] for r in exported["registrations"]} == {HOME_NOTE, VISIT_NOTE}
    assert [a["room"] for a in exported["assessments"]] == [
        "multibron",
        "multibron",
        "samen-sterk",
    ]
    restricted = await client.put(f"{url}/restriction", headers=mb, json={"restricted": True})
    assert restricted.json() == {"restricted": True}
    assert (
        await client.put(f"{url}/restriction", headers=mb, json={"restricted": False})
    ).status_code == 200
    assert (await client.delete(url, headers=mb)).status_code == 204
    assert_problem(await client.get(url, headers=noor["ss"]), 404)


async def test_a_room_that_helped_by_code_reads_none_of_the_home_rooms_notes_or_measurements(
    client, noor
):
    ss, url = noor["ss"], noor["url"]
    assessments = (await client.get(f"{url}/assessments", headers=ss)).json()["items"]
    assert [(a["room"], a["rung"]) for a in assessments] == [("samen-sterk", 3)]
    assert (await client.get(f"{url}/volunteering", headers=ss)).json()["items"] == []
    registrations = (
        await client.get("/registrations", headers=ss, params={"residentId": noor["id"]})
    ).json()["items"]
    assert [(r["room"], r["note"]) for r in registrations] == [("samen-sterk", VISIT_NOTE)]
    assert_problem(await client.get(f"/registrations/{noor['home_registration']}", headers=ss), 404)
    shown = (await client.get(f"/registrations/{noor['visit_registration']}", headers=ss)).json()
    assert shown["note"] == VISIT_NOTE
    # the suggestion that comes with volunteering tells of the latest rung the room may read:
    # Samen Sterk's own 3 (so: rung 4), not MultiBron's later 5 (which would suggest nothing)
    later = {"instrument": "participation-ladder", "assessedOn": "2019-07-01", "rung": 5}
    assert (
        await client.post(f"{url}/assessments", headers=noor["mb"], json=later)
    ).status_code == 201
    joined = await client.post(
        f"{url}/volunteering", headers=ss, json={"room": "samen-sterk", "since": YESTERDAY}
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["suggestedRung"] == 4
    assert [
        v["room"] for v in (await client.get(f"{url}/volunteering", headers=ss)).json()["items"]
    ] == ["samen-sterk"]


async def test_the_home_room_reads_every_measurement_and_its_own_notes(client, noor):
    mb, url = noor["mb"], noor["url"]
    assessments = (await client.get(f"{url}/assessments", headers=mb)).json()["items"]
    assert [a["room"] for a in assessments] == ["multibron", "multibron", "samen-sterk"]
    volunteering = (await client.get(f"{url}/volunteering", headers=mb)).json()["items"]
    assert [v["room"] for v in volunteering] == ["multibron"]
    registrations = (
        await client.get("/registrations", headers=mb, params={"residentId": noor["id"]})
    ).json()["items"]
    assert [(r["room"], r["note"]) for r in registrations] == [("multibron", HOME_NOTE)]


async def test_a_referral_note_stays_with_the_room_that_wrote_it(client, noor, volunteer):
    made = await client.post(
        "/referrals",
        headers=volunteer,
        json={
            "room": "multibron",
            "partner": "madi",
            "residentId": noor["id"],
            "reason": "schulden",
            "note": "belt zelf terug",
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["note"] == "belt zelf terug"
    listed = (await client.get("/referrals", headers=noor["ss"])).json()["items"]
    assert made.json()["id"] not in [r["id"] for r in listed]
    assert_problem(await client.get(f"/referrals/{made.json()['id']}", headers=noor["ss"]), 404)


async def test_a_measurement_is_taken_at_a_room_of_yours_that_serves_the_resident(
    client, coordinator
):
    resident_id = (
        await client.post("/residents", headers=coordinator, json={"room": "multibron"})
    ).json()["id"]
    url = f"/residents/{resident_id}/assessments"
    body = {"instrument": "participation-ladder", "assessedOn": "2019-03-01", "rung": 2}
    named = await client.post(url, headers=coordinator, json={**body, "room": "multibron"})
    assert named.status_code == 201, named.text
    assert named.json()["room"] == "multibron"
    assert_problem(
        await client.post(url, headers=coordinator, json={**body, "room": "samen-sterk"}), 403
    )
    problem = assert_problem(
        await client.post(url, headers=coordinator, json={**body, "room": "no-such-room"}), 400
    )
    assert [p["name"] for p in problem["invalidParams"]] == ["room"]
    problem = assert_problem(
        await client.post(url, headers=coordinator, json={**body, "room": "X!"}), 400
    )
    assert [p["name"] for p in problem["invalidParams"]] == ["room"]


def _table(name, *columns):
    return sa.table(name, *(sa.column(c, t) for c, t in columns))


@pytest.mark.parametrize("backend", BACKENDS)
def test_measurements_taken_before_rooms_were_kept_go_to_the_home_room(backend):
    db = databases.create(backend, "bwk_test_assessment_room")
    now = datetime.now(UTC)
    resident = _table(
        "resident",
        ("id", sa.Uuid()),
        ("languages", JsonType),
        ("home_room_id", sa.Integer()),
        ("created_at", UtcDateTime()),
        ("updated_at", UtcDateTime()),
    )
    assessment = _table(
        "assessment",
        ("id", sa.Uuid()),
        ("resident_id", sa.Uuid()),
        ("instrument", sa.String()),
        ("assessed_on", sa.Date()),
        ("rung", sa.Integer()),
        ("recorded_by", sa.Uuid()),
        ("created_at", UtcDateTime()),
    )
    try:
        databases.migrate(db.engine, "5c0a7e3d41b2-1")  # the revision before rooms were kept
        with db.engine.begin() as conn:
            seed.seed_reference(conn)
            home = conn.execute(
                sa.text("SELECT id FROM room WHERE slug = 'samen-sterk'")
            ).scalar_one()
            resident_id = uuid.uuid4()
            conn.execute(
                resident.insert().values(
                    id=resident_id, languages=[], home_room_id=home, created_at=now, updated_at=now
                )
            )
            conn.execute(
                assessment.insert().values(
                    id=uuid.uuid4(),
                    resident_id=resident_id,
                    instrument="participation-ladder",
                    assessed_on=date(2019, 3, 1),
                    rung=2,
                    recorded_by=uuid.uuid4(),
                    created_at=now,
                )
            )
        databases.migrate(db.engine, "5c0a7e3d41b2")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT room_id FROM assessment")).scalar_one() == home
    finally:
        databases.dispose(db)
