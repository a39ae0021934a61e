"""Participants by age band and postcode area; the district never sees a small cell."""

from tests.helpers import assert_problem


async def _people(client, headers, room, count, **fields):
    for _ in range(count):
        response = await client.post(
            "/registrations",
            headers=headers,
            json={
                "room": room,
                "activity": "forms",
                "occurredOn": "2019-05-01",
                "resident": fields,
            },
        )
        assert response.status_code == 201


async def test_the_district_sees_bands_with_small_cells_hidden(
    client, volunteer, stadsdeel, coordinator
):
    await _people(client, volunteer, "multibron", 7, birthYear=1980)  # 39 in 2019: 27-44
    await _people(client, volunteer, "multibron", 6, ageBand="45-66")
    await _people(client, volunteer, "multibron", 2, birthYear=2005)  # 14: 0-17
    body = (
        await client.get(
            "/indicators/participants",
            headers=stadsdeel,
            params={"year": 2019, "by": "age-band", "room": "multibron"},
        )
    ).json()
    cells = {c["group"]: c["participants"] for c in body["rooms"][0]["cells"]}
    assert body["suppressed"] is True
    assert body["disclosureControl"]["applied"] is True
    assert body["rooms"][0]["total"] == 15
    assert cells["0-17"] is None  # 2 people: hidden
    assert cells["45-66"] is None  # the next smallest, or 2 = 15 - 7 - 6
    district = {c["group"]: c["participants"] for c in body["district"]["cells"]}
    assert district["0-17"] is None and district["45-66"] is None  # the same people
    # and the 7: each hidden count needs hidden company of at least 3 people in its row, or
    # together with the other rows and columns it could be pinned down (the 6 had only the 2)
    assert cells["27-44"] is None
    assert cells["67+"] == 0
    # the room's own coordinator sees its people, so nothing is hidden
    mine = (
        await client.get(
            "/indicators/participants", headers=coordinator, params={"year": 2019, "by": "age-band"}
        )
    ).json()
    assert mine["suppressed"] is False
    assert mine["disclosureControl"]["applied"] is False
    assert {c["group"]: c["participants"] for c in mine["rooms"][0]["cells"]}["0-17"] == 2


async def test_postcode_areas_and_a_small_room_total(client, volunteer_samen_sterk, stadsdeel):
    await _people(client, volunteer_samen_sterk, "samen-sterk", 3, postcodeArea="1102")
    body = (
        await client.get(
            "/indicators/participants",
            headers=stadsdeel,
            params={"year": 2019, "by": "postcode-area", "room": "samen-sterk"},
        )
    ).json()
    row = body["rooms"][0]
    assert row["total"] is None
    assert all(c["participants"] is None for c in row["cells"])
    # the whole district is those 3 people: nothing about them can be shown
    assert body["district"]["total"] is None
    assert "Too few people" in body["disclosureControl"]["note"]
    assert_problem(
        await client.get(
            "/indicators/participants", headers=stadsdeel, params={"year": 2019, "by": "shoe-size"}
        ),
        400,
    )
