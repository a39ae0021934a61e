"""The desk: residents and the help they get, per room, fast, never counted twice."""

import asyncio
import uuid
from datetime import date, timedelta

import pytest

from tests.helpers import assert_problem, coordinator_of_rooms, headers_for

TODAY = date.today()
YESTERDAY = (TODAY - timedelta(days=1)).isoformat()


async def register(client, headers, **body):
    base = {"room": "multibron", "activity": "forms", "occurredOn": YESTERDAY}
    return await client.post("/registrations", headers=headers, json=base | body)


async def test_a_new_resident_and_the_first_help_in_one_request(client, volunteer):
    response = await register(
        client,
        volunteer,
        resident={
            "name": "Mevrouw Jansen",
            "postcodeArea": "1102",
            "ageBand": "45-66",
            "languages": ["nl", "pap"],
        },
    )
    assert response.status_code == 201
    registration = response.json()
    assert registration["residentId"] and registration["headcount"] == 1
    assert response.headers["ETag"] == '"1"'
    resident = (
        await client.get(f"/residents/{registration['residentId']}", headers=volunteer)
    ).json()
    assert resident["name"] == "Mevrouw Jansen"
    assert resident["homeRoom"] == "multibron"
    assert len(resident["code"]) == 8 and resident["code"][3] == "-"


async def test_a_resident_needs_nothing_but_a_room(client, volunteer):
    response = await client.post("/residents", headers=volunteer, json={"room": "multibron"})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] is None and body["code"]


async def test_a_volunteer_of_multibron_cannot_see_or_find_samen_sterk_people(
    client, volunteer, volunteer_samen_sterk
):
    theirs = (
        await client.post(
            "/residents",
            headers=volunteer_samen_sterk,
            json={"room": "samen-sterk", "name": "Meneer Koster"},
        )
    ).json()
    assert_problem(await client.get(f"/residents/{theirs['id']}", headers=volunteer), 404)
    listed = (await client.get("/residents", headers=volunteer)).json()["items"]
    assert theirs["id"] not in [r["id"] for r in listed]
    by_code = (
        await client.get("/residents", headers=volunteer, params={"code": theirs["code"]})
    ).json()
    assert by_code["items"] == []
    regs = (await client.get("/registrations", headers=volunteer)).json()["items"]
    assert all(r["room"] == "multibron" for r in regs)
    assert_problem(
        await client.patch(f"/residents/{theirs['id']}", headers=volunteer, json={"name": "X"}), 404
    )


async def test_any_room_may_help_a_resident_who_shows_their_code(
    client, volunteer, volunteer_samen_sterk
):
    theirs = (
        await client.post("/residents", headers=volunteer_samen_sterk, json={"room": "samen-sterk"})
    ).json()
    response = await register(client, volunteer, residentCode=theirs["code"])
    assert response.status_code == 201
    # now MultiBron serves this resident too
    seen = await client.get(f"/residents/{theirs['id']}", headers=volunteer)
    assert seen.status_code == 200
    assert seen.json()["rooms"] == ["multibron", "samen-sterk"]


async def test_an_anonymous_group_counts_its_headcount(client, volunteer):
    response = await register(client, volunteer, activity="connection", headcount=12)
    assert response.status_code == 201
    assert response.json()["residentId"] is None and response.json()["headcount"] == 12
    assert_problem(await register(client, volunteer), 400)


async def test_a_volunteer_registers_only_at_their_own_room(
    client, volunteer, admin, stadsdeel, partner
):
    response = await register(client, volunteer, room="samen-sterk", headcount=1)
    assert_problem(response, 403)
    for headers in (admin, stadsdeel, partner):
        assert_problem(await register(client, headers, headcount=1), 403)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurredOn": (TODAY + timedelta(days=2)).isoformat()}, "occurredOn"),
        ({"occurredOn": "2012-12-31"}, "occurredOn"),  # MultiBron opened in 2013
        ({"occurredOn": "2019-02-30"}, "occurredOn"),
        ({"activity": "juggling"}, "activity"),
        ({"note": "BSN 111222333"}, "note"),
        ({"note": "x" * 10_000}, "note"),
        ({"note": "nul\x00byte"}, "note"),
        ({"headcount": 0}, "headcount"),
        ({"headcount": "many"}, "headcount"),
        ({"residentCode": "nope"}, "residentCode"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_bad_input_is_a_clear_400(client, change, field, volunteer):
    body = {"headcount": 1} | change
    response = await register(client, volunteer, **body)
    problem = assert_problem(response, 400)
    assert field in {p["name"] for p in problem["invalidParams"]}, problem


async def test_a_bsn_is_refused_in_a_residents_name_too(client, volunteer):
    response = await client.post(
        "/residents",
        headers=volunteer,
        json={"room": "multibron", "name": "Jan 123.456.782"},
    )
    problem = assert_problem(response, 400)
    assert "BSN" in problem["invalidParams"][0]["reason"]


async def test_an_unknown_resident_id_is_a_400_not_a_crash(client, volunteer):
    response = await register(client, volunteer, residentId=str(uuid.uuid4()))
    assert_problem(response, 400)


async def test_a_coordinator_corrects_with_if_match_and_a_reason(
    client, volunteer, coordinator, coordinator_samen_sterk
):
    created = (await register(client, volunteer, headcount=3)).json()
    url = f"/registrations/{created['id']}"
    change = {"headcount": 4, "reason": "counted again"}
    assert_problem(await client.patch(url, headers=coordinator, json=change), 428)
    assert_problem(
        await client.patch(url, headers={**coordinator, "If-Match": '"7"'}, json=change), 412
    )
    ok = await client.patch(url, headers={**coordinator, "If-Match": '"1"'}, json=change)
    assert ok.status_code == 200
    assert ok.json()["headcount"] == 4 and ok.headers["ETag"] == '"2"'
    # a second editor with the old ETag loses, nothing is overwritten
    stale = await client.patch(
        url, headers={**coordinator, "If-Match": '"1"'}, json={"headcount": 9, "reason": "x y"}
    )
    assert_problem(stale, 412)
    assert_problem(
        await client.patch(url, headers={**volunteer, "If-Match": '"2"'}, json=change),
        403,
    )
    assert_problem(
        await client.patch(
            url, headers={**coordinator_samen_sterk, "If-Match": '"2"'}, json=change
        ),
        404,
    )


async def test_a_voided_registration_leaves_the_list_but_stays_on_record(
    client, coordinator, volunteer
):
    created = (await register(client, volunteer, headcount=2)).json()
    url = f"/registrations/{created['id']}"
    headers = {**coordinator, "If-Match": '"1"'}
    voided = await client.patch(
        url, headers=headers, json={"voided": True, "reason": "typed twice"}
    )
    assert voided.status_code == 200 and voided.json()["voided"] is True
    listed = (await client.get("/registrations", headers=coordinator)).json()
    assert created["id"] not in [r["id"] for r in listed["items"]]
    with_voided = await client.get(
        "/registrations", headers=coordinator, params={"includeVoided": True}
    )
    assert created["id"] in [r["id"] for r in with_voided.json()["items"]]
    again = await client.patch(
        url, headers={**headers, "If-Match": '"2"'}, json={"headcount": 5, "reason": "oops"}
    )
    assert_problem(again, 409)


async def test_a_retried_post_with_the_same_key_counts_once(client, volunteer):
    headers = {**volunteer, "Idempotency-Key": "desk-1-" + uuid.uuid4().hex}
    first = await register(client, headers, headcount=5)
    second = await register(client, headers, headcount=5)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    other = await register(client, headers, headcount=6)
    assert_problem(other, 422)
    listed = (await client.get("/registrations", headers=volunteer)).json()
    assert [r["id"] for r in listed["items"]].count(first.json()["id"]) == 1


async def test_retries_at_the_same_moment_create_one_registration(client, db, volunteer):
    headers = {**volunteer, "Idempotency-Key": "burst-" + uuid.uuid4().hex}
    answers = await asyncio.gather(
        *(register(client, headers, headcount=2, note="burst") for _ in range(8))
    )
    # each waits for the first, then gets its answer: no 409 for a request that finished
    assert [a.status_code for a in answers] == [201] * 8
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(1 for a in answers if "Idempotent-Replayed" not in a.headers) == 1
    listed = (await client.get("/registrations", headers=volunteer)).json()
    assert sum(1 for r in listed["items"] if r["note"] == "burst") == 1


async def test_the_same_key_from_another_person_is_their_own(client, coordinator, volunteer):
    key = "shared-" + uuid.uuid4().hex
    one = await register(client, {**volunteer, "Idempotency-Key": key}, headcount=1)
    two = await register(client, {**coordinator, "Idempotency-Key": key}, headcount=1)
    assert one.json()["id"] != two.json()["id"]


async def test_a_failed_request_gives_its_key_back(client, volunteer):
    headers = {**volunteer, "Idempotency-Key": "fix-" + uuid.uuid4().hex}
    bad = await register(client, headers, headcount=1, occurredOn="2012-01-01")
    assert_problem(bad, 400)
    good = await register(client, headers, headcount=1, occurredOn="2012-01-01")
    assert_problem(good, 400)  # the same body fails the same way, not a 409
    fixed = await register(client, headers, headcount=1)
    assert fixed.status_code == 201


async def test_lists_filter_and_page_without_repeats(client, volunteer):
    for day in range(1, 8):
        await register(
            client,
            volunteer,
            headcount=1,
            activity="odd-jobs",
            occurredOn=(TODAY - timedelta(days=day)).isoformat(),
        )
    await register(client, volunteer, headcount=1, activity="forms")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, "activity": "odd-jobs"} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/registrations", headers=volunteer, params=params)).json()
        seen += body["items"]
        cursor = body["nextCursor"]
        if not cursor:
            break
    assert len(seen) == 7 == len({r["id"] for r in seen})
    assert all(r["activity"] == "odd-jobs" for r in seen)
    days = [r["occurredOn"] for r in seen]
    assert days == sorted(days, reverse=True)
    window = await client.get(
        "/registrations",
        headers=volunteer,
        params={
            "from": (TODAY - timedelta(days=3)).isoformat(),
            "to": YESTERDAY,
            "activity": "odd-jobs",
        },
    )
    assert len(window.json()["items"]) == 3


async def test_a_coordinator_of_two_rooms_pages_through_both_newest_first(
    client, volunteer, volunteer_samen_sterk
):
    """The list merges the rooms' registrations by day (each room is read newest first on
    its own): interleaved days come back in one order, every one once, and a room's
    registration on a page boundary is not skipped."""
    made = {}
    for day in range(1, 9):
        at, who = ("multibron", volunteer) if day % 3 else ("samen-sterk", volunteer_samen_sterk)
        body = (
            await register(
                client,
                who,
                room=at,
                headcount=2,
                occurredOn=(TODAY - timedelta(days=day)).isoformat(),
            )
        ).json()
        made[body["id"]] = (body["occurredOn"], at)
    both = await coordinator_of_rooms(client, ["multibron", "samen-sterk"])
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/registrations", headers=both, params=params)).json()
        assert len(body["items"]) <= 3
        seen += [(r["occurredOn"], r["room"]) for r in body["items"] if r["id"] in made]
        cursor = body["nextCursor"]
        if not cursor:
            break
    assert seen == sorted(made.values(), reverse=True)
    assert {room for _, room in seen} == {"multibron", "samen-sterk"}


@pytest.mark.parametrize(
    "room", ["casa-jepie-makandra", "multibron", "de-handreiking", "samen-sterk"]
)
async def test_the_desk_flow_works_for_every_room(client, room):
    volunteer = await headers_for(client, f"volunteer.{room}")
    created = await client.post(
        "/registrations",
        headers=volunteer,
        json={
            "room": room,
            "activity": "computer-skills",
            "occurredOn": YESTERDAY,
            "resident": {"languages": ["en"]},
        },
    )
    assert created.status_code == 201
    resident_id = created.json()["residentId"]
    again = await client.post(
        "/registrations",
        headers=volunteer,
        json={
            "room": room,
            "activity": "dutch-language",
            "occurredOn": YESTERDAY,
            "residentId": resident_id,
        },
    )
    assert again.status_code == 201
    history = await client.get(
        "/registrations", headers=volunteer, params={"residentId": resident_id}
    )
    activities = sorted(r["activity"] for r in history.json()["items"])
    assert activities == ["computer-skills", "dutch-language"]
    mine = (await client.get("/residents", headers=volunteer)).json()["items"]
    assert [r["id"] for r in mine] == [resident_id]


async def test_the_fast_answers_match_their_published_schemas(client, volunteer):
    from api.auth.schemas import Me
    from api.registrations.schemas import RegistrationPage

    await register(client, volunteer, headcount=2, note="schema check")
    await register(client, volunteer, resident={"name": "Schema"})
    listed = (await client.get("/registrations", headers=volunteer)).json()
    page = RegistrationPage.model_validate(listed)
    assert set(listed["items"][0]) == set(page.items[0].model_dump(by_alias=True))
    me = (await client.get("/me", headers=volunteer)).json()
    assert set(me) == set(Me.model_validate(me).model_dump(by_alias=True))


async def test_the_fast_answers_are_what_the_validated_ones_are(client, volunteer):
    """POST and the list send their rows without pydantic: byte for byte what GET (validated
    by its response_model) sends, for a group and for a resident (with its audit event)."""
    from api.registrations.schemas import RegistrationPublic

    for body in ({"headcount": 2, "note": "fast"}, {"resident": {"name": "Snel"}}):
        created = await register(client, volunteer, **body)
        assert created.status_code == 201
        sent = created.json()
        assert created.headers["Location"] == f"/api/v1/registrations/{sent['id']}"
        assert created.headers["ETag"] == '"1"'
        validated = RegistrationPublic.model_validate(sent).model_dump(mode="json", by_alias=True)
        assert sent == validated
        read = await client.get(f"/registrations/{sent['id']}", headers=volunteer)
        assert read.json() == sent
        listed = (await client.get("/registrations", headers=volunteer)).json()["items"]
        assert [item for item in listed if item["id"] == sent["id"]] == [sent]
