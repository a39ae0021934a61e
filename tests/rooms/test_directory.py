"""The open directory: anyone can see which rooms there are and what they offer."""

from tests.helpers import ROOMS, assert_problem


async def test_anyone_sees_the_four_rooms_with_their_activities(client):
    response = await client.get("/rooms")
    assert response.status_code == 200
    body = response.json()
    assert [r["slug"] for r in body["items"]] == ROOMS
    assert body["nextCursor"] is None
    multibron = next(r for r in body["items"] if r["slug"] == "multibron")
    assert multibron["name"] == "MultiBron"
    assert multibron["neighbourhood"] == "Venserpolder"
    assert multibron["openedOn"] == "2013-01-01"
    assert multibron["subsidy"] == "structural"
    assert "en" in multibron["languages"]
    assert len(multibron["activities"]) == 8
    samen_sterk = next(r for r in body["items"] if r["slug"] == "samen-sterk")
    assert samen_sterk["openedOn"] == "2018-04-01"
    assert samen_sterk["subsidy"] == "incidental"


async def test_rooms_page_with_a_cursor_and_no_room_twice(client):
    seen = []
    cursor = None
    for _ in range(5):
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/rooms", params=params)).json()
        seen += [r["slug"] for r in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == ROOMS


async def test_one_room_by_slug(client):
    response = await client.get("/rooms/de-handreiking")
    assert response.status_code == 200
    assert response.json()["neighbourhood"] == "H-buurt"


async def test_an_unknown_room_is_a_problem_not_a_crash(client):
    assert_problem(await client.get("/rooms/atlantis"), 404)
    assert_problem(await client.get("/rooms/..%2F..%2Fetc"), 404)


async def test_activities_have_dutch_and_english_labels_and_units(client):
    items = (await client.get("/activities")).json()["items"]
    assert len(items) == 8
    forms = next(a for a in items if a["code"] == "forms")
    assert forms == {
        "code": "forms",
        "labelNl": "Formulieren",
        "labelEn": "Help with forms",
        "targetUnit": "services",
    }
    units = {a["code"]: a["targetUnit"] for a in items}
    assert units["computer-skills"] == units["dutch-language"] == "participants"


async def test_partners_include_the_chain_partners(client):
    codes = [p["code"] for p in (await client.get("/partners")).json()["items"]]
    assert {"madi", "pbazo", "pozo", "venzo"} <= set(codes)


async def test_a_cursor_from_elsewhere_is_refused_with_400(client):
    body = assert_problem(await client.get("/rooms", params={"cursor": "not-a-cursor"}), 400)
    assert body["invalidParams"][0]["name"] == "cursor"
    # a cursor of another list, with a value of the wrong type
    activities = (await client.get("/activities", params={"limit": 1})).json()
    body = assert_problem(
        await client.get("/rooms", params={"cursor": activities["nextCursor"]}), 400
    )


async def test_limit_outside_1_to_500_is_a_400(client):
    for limit in (0, 501, -1, "many"):
        assert_problem(await client.get("/rooms", params={"limit": limit}), 400)


async def test_a_room_address_may_be_cleared_with_null(client, admin):
    response = await client.patch("/rooms/multibron", headers=admin, json={"address": None})
    assert response.status_code == 200
