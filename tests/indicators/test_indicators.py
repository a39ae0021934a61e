"""The district's figures: hand-computed expectations, roles, CSV, targets."""

import pytest

from api.sheets import cell
from tests.helpers import assert_problem, coordinator_of_rooms, headers_for


async def _register(client, headers, room, activity, day, **who):
    response = await client.post(
        "/registrations",
        headers=headers,
        json={"room": room, "activity": activity, "occurredOn": day, **who},
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def year_2019(client, volunteer, volunteer_samen_sterk, coordinator_samen_sterk):
    """A small 2019: Ann visits MultiBron and Samen Sterk, Bob only MultiBron, one group,
    one voided registration, and one on the edge of the first quarter."""
    ann = await _register(client, volunteer, "multibron", "forms", "2019-01-10", resident={})
    ann_id = ann["residentId"]
    bob = await _register(client, volunteer, "multibron", "forms", "2019-03-31", resident={})
    await _register(client, volunteer, "multibron", "forms", "2019-04-01", residentId=ann_id)
    await _register(
        client, volunteer, "multibron", "dutch-language", "2019-02-01", residentId=ann_id
    )
    await _register(
        client, volunteer, "multibron", "dutch-language", "2019-02-08", residentId=ann_id
    )
    await _register(client, volunteer, "multibron", "connection", "2019-05-05", headcount=12)
    await _register(
        client, volunteer_samen_sterk, "samen-sterk", "forms", "2019-06-30", residentId=ann_id
    )
    voided = await _register(
        client, volunteer_samen_sterk, "samen-sterk", "forms", "2019-06-30", headcount=40
    )
    await client.patch(
        f"/registrations/{voided['id']}",
        headers={**coordinator_samen_sterk, "If-Match": '"1"'},
        json={"voided": True, "reason": "counted twice"},
    )
    await _register(
        client, volunteer, "multibron", "forms", "2018-12-31", residentId=bob["residentId"]
    )
    return {"ann": ann_id, "bob": bob["residentId"]}


async def _both_rooms(client):
    """A coordinator of MultiBron and Samen Sterk: sees both rooms' figures in full, so the
    counting rules show on two people (the district roles see them hidden)."""
    return await coordinator_of_rooms(client, ["multibron", "samen-sterk"])


def _figure(body, room, indicator):
    if room == "totals":
        items = body["totals"]["indicators"]
    else:
        items = next(r for r in body["rooms"] if r["room"] == room)["indicators"]
    return next(i for i in items if i["indicator"] == indicator)


async def test_a_year_counts_services_people_and_distinct_visitors(client, year_2019):
    stadsdeel = await _both_rooms(client)
    body = (
        await client.get("/indicators/performance", headers=stadsdeel, params={"year": 2019})
    ).json()
    assert body["period"] == {"start": "2019-01-01", "end": "2019-12-31"}
    forms_mb = _figure(body, "multibron", "forms")
    assert forms_mb["realised"] == 3  # 2018-12-31 is another year
    assert forms_mb["target"] == 150
    assert forms_mb["attainment"] == 0.02
    assert forms_mb["expectedToDate"] == 150  # 2019 is closed
    assert _figure(body, "multibron", "dutch-language")["realised"] == 1  # one participant
    assert _figure(body, "multibron", "connection")["realised"] == 12  # a group's headcount
    assert _figure(body, "samen-sterk", "forms")["realised"] == 1  # the voided 40 left out
    assert _figure(body, "multibron", "unique-visitors")["realised"] == 2
    assert _figure(body, "samen-sterk", "unique-visitors")["realised"] == 1
    visitors = _figure(body, "totals", "unique-visitors")
    assert visitors["realised"] == 2  # Ann once, though she visited two rooms
    assert visitors["realisedSumOfRooms"] == 3
    assert visitors["target"] == 750  # the two rooms this coordinator works for
    forms_total = _figure(body, "totals", "forms")
    assert forms_total["realised"] == forms_total["realisedSumOfRooms"] == 4
    assert forms_total["target"] == 250


async def test_31_march_and_1_april_fall_in_their_own_quarters(client, year_2019):
    stadsdeel = await _both_rooms(client)
    q1 = (
        await client.get(
            "/indicators/performance",
            headers=stadsdeel,
            params={"year": 2019, "quarter": 1, "room": "multibron"},
        )
    ).json()
    q2 = (
        await client.get(
            "/indicators/performance",
            headers=stadsdeel,
            params={"year": 2019, "quarter": 2, "room": "multibron"},
        )
    ).json()
    assert q1["period"] == {"start": "2019-01-01", "end": "2019-03-31"}
    assert _figure(q1, "multibron", "forms")["realised"] == 2
    assert _figure(q2, "multibron", "forms")["realised"] == 1
    # the year's target pro rata: 150 x 90/365 days
    assert _figure(q1, "multibron", "forms")["target"] == 37
    assert _figure(q2, "multibron", "forms")["target"] == 37.4
    march = (
        await client.get(
            "/indicators/performance",
            headers=stadsdeel,
            params={"year": 2019, "month": 3, "room": "multibron"},
        )
    ).json()
    assert _figure(march, "multibron", "forms")["realised"] == 1
    assert [r["room"] for r in march["rooms"]] == ["multibron"]


async def test_the_district_sees_no_count_of_so_few_people(client, year_2019, stadsdeel):
    body = (
        await client.get("/indicators/performance", headers=stadsdeel, params={"year": 2019})
    ).json()
    control = body["disclosureControl"]
    assert control["applied"] is True and "Too few people" in control["note"]
    visitors = _figure(body, "totals", "unique-visitors")
    assert visitors["realised"] is None and visitors["realisedSumOfRooms"] is None
    assert visitors["attainment"] is None and visitors["target"] == 1600
    assert _figure(body, "multibron", "dutch-language")["realised"] is None  # 1 participant
    # too small to protect: every figure of the period goes, the agreements stay
    assert all(f["realised"] is None for r in body["rooms"] for f in r["indicators"])
    assert _figure(body, "multibron", "forms")["target"] == 150


async def test_a_coordinator_sees_only_its_rooms_and_a_partner_nothing(
    client, year_2019, coordinator, partner
):
    mine = (
        await client.get("/indicators/performance", headers=coordinator, params={"year": 2019})
    ).json()
    assert [r["room"] for r in mine["rooms"]] == ["multibron"]
    assert _figure(mine, "totals", "unique-visitors")["realised"] == 2
    assert mine["disclosureControl"]["applied"] is False
    other = await client.get(
        "/indicators/performance", headers=coordinator, params={"year": 2019, "room": "samen-sterk"}
    )
    assert_problem(other, 403)
    assert_problem(
        await client.get("/indicators/performance", headers=partner, params={"year": 2019}), 403
    )


async def test_bad_periods_are_400s(client, stadsdeel):
    for params in (
        {},
        {"year": 2019, "quarter": 5},
        {"year": 2019, "month": 13},
        {"year": 2019, "quarter": 1, "month": 1},
        {"year": "last"},
        {"year": 2019, "room": "atlantis"},
    ):
        assert_problem(
            await client.get("/indicators/performance", headers=stadsdeel, params=params), 400
        )


async def test_csv_for_excel_with_dutch_settings(client, year_2019):
    stadsdeel = await _both_rooms(client)
    response = await client.get(
        "/indicators/performance",
        headers={**stadsdeel, "Accept": "text/csv"},
        params={"year": 2019, "quarter": 1},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "prestaties-2019-q1.csv" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffjaar;van;tot en met;kamer;indicator")
    lines = text.strip("\ufeff").split("\r\n")
    multibron_forms = next(line for line in lines if ";multibron;forms;" in line)
    assert multibron_forms.split(";")[6:8] == ["37", "2"]
    assert any(";0,054;" in line for line in lines if ";multibron;forms;" in line)
    same = await client.get(
        "/indicators/performance",
        headers=stadsdeel,
        params={"year": 2019, "quarter": 1, "format": "csv"},
    )
    assert same.content == response.content


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_no_csv_cell_can_start_a_formula(text):
    assert cell(text).startswith("'")


async def test_targets_are_read_per_room_and_set_per_year_by_the_district(
    client, stadsdeel, coordinator, admin
):
    volunteer = await headers_for(client, "volunteer.de-handreiking")
    mine = (await client.get("/targets", headers=volunteer, params={"year": 2019})).json()
    assert {t["room"] for t in mine["items"]} == {"de-handreiking"}
    assert len(mine["items"]) == 9
    body = {
        "items": [
            {"room": "multibron", "indicator": "forms", "unit": "services", "value": 180},
            {
                "room": "multibron",
                "indicator": "unique-visitors",
                "unit": "participants",
                "value": 420,
            },
        ]
    }
    response = await client.put("/targets/2020", headers=stadsdeel, json=body)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 2
    csv_body = "room;indicator;unit;value\r\nsamen-sterk;forms;services;90\r\n"
    response = await client.put(
        "/targets/2020", headers={**stadsdeel, "Content-Type": "text/csv"}, content=csv_body
    )
    assert [t["value"] for t in response.json()["items"]] == [90]
    wrong_unit = {
        "items": [{"room": "multibron", "indicator": "forms", "unit": "participants", "value": 1}]
    }
    assert_problem(await client.put("/targets/2020", headers=stadsdeel, json=wrong_unit), 400)
    assert_problem(await client.put("/targets/2020", headers=coordinator, json=body), 403)
    events = (
        await client.get("/audit-events", headers=admin, params={"action": "targets.replace"})
    ).json()["items"]
    assert len(events) == 2


async def test_targets_as_csv_open_in_excel_and_go_back_in_with_put(client, stadsdeel):
    as_json = (await client.get("/targets", headers=stadsdeel, params={"year": 2019})).json()
    response = await client.get(
        "/targets", headers=stadsdeel, params={"year": 2019, "format": "csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="doelen-2019.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "jaar;kamer;indicator;eenheid;doel"
    assert lines[1:-1] and lines[-1] == ""
    first = as_json["items"][0]
    assert f"2019;{first['room']};{first['indicator']};{first['unit']};{first['value']}" in lines
    # every agreement, not one page of them
    by_accept = await client.get(
        "/targets", headers={**stadsdeel, "Accept": "text/csv"}, params={"year": 2019, "limit": 1}
    )
    assert by_accept.content == response.content
    assert len(lines) - 2 == len(
        (
            await client.get("/targets", headers=stadsdeel, params={"year": 2019, "limit": 500})
        ).json()["items"]
    )

    # what GET wrote, PUT reads back: the year stays exactly as it was
    put = await client.put(
        "/targets/2019",
        headers={**stadsdeel, "Content-Type": "text/csv"},
        content=response.content,
    )
    assert put.status_code == 200, put.text
    again = await client.get("/targets", headers=stadsdeel, params={"year": 2019, "format": "csv"})
    assert again.content == response.content
    # a row of another year is refused, and nothing changes
    other_year = response.content.replace(b"\r\n2019;", b"\r\n2018;", 1)
    refused = await client.put(
        "/targets/2019", headers={**stadsdeel, "Content-Type": "text/csv"}, content=other_year
    )
    assert "jaar 2018 is not 2019" in assert_problem(refused, 400)["detail"]


async def test_a_volunteer_gets_only_their_rooms_targets_as_csv(client):
    volunteer = await headers_for(client, "volunteer.de-handreiking")
    response = await client.get("/targets", headers={**volunteer, "Accept": "text/csv"})
    rows = response.content.decode("utf-8-sig").split("\r\n")[1:-1]
    assert rows and all(row.split(";")[1] == "de-handreiking" for row in rows)
