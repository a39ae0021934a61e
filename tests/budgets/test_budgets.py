"""The district's money (§3.1.3 of the report) and what the work costs against what it
reaches: the 2019 figures are checked against a hand computation from the CSVs."""

import csv
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources

import pytest

from tests.helpers import ROOMS, assert_problem, headers_for

CENT = Decimal("0.01")
THREE_ROOMS = ["casa-jepie-makandra", "multibron", "de-handreiking"]


def _reference(name):
    text = resources.files("api.reference").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _euros(value):
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


@pytest.fixture
def by_hand():
    """2019 from the CSVs, summed by hand."""
    budget = _reference("budget-2019.csv")
    income = sum(Decimal(r["amount_eur"]) for r in budget if r["kind"] == "income")
    costs = sum(Decimal(r["amount_eur"]) for r in budget if r["kind"] == "cost")
    subsidy = sum(Decimal(r["amount_eur"]) for r in _reference("subsidies-2019.csv"))
    fte = sum(Decimal(r["fte"]) for r in _reference("staff-2019.csv"))
    targets = _reference("targets-2019.csv")
    visitors_target = sum(int(r["value"]) for r in targets if r["indicator"] == "unique-visitors")
    return {
        "income": income,
        "costs": costs,
        "subsidy": subsidy,
        "fte": fte,
        "visitors_target": visitors_target,
    }


async def _efficiency(client, who="stadsdeel", **params):
    headers = await headers_for(client, who)
    response = await client.get("/indicators/efficiency", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _room(body, slug):
    return next(r for r in body["rooms"] if r["room"] == slug)


async def test_2019_shows_the_reports_money_and_the_hand_computation(client, by_hand):
    body = await _efficiency(client, year=2019)
    co = body["cooperative"]
    # the report's own figures
    assert co["income"] == "399500.00"
    assert co["costs"] == "426588.00"
    assert co["balance"] == "-27088.00"
    assert co["municipalSubsidy"] == "248000.00"
    assert co["fte"] == 6.4
    # and the same from the CSVs by hand
    assert co["income"] == _euros(by_hand["income"])
    assert co["costs"] == _euros(by_hand["costs"])
    assert co["balance"] == _euros(by_hand["income"] - by_hand["costs"])
    assert co["municipalSubsidy"] == _euros(by_hand["subsidy"])
    assert Decimal(str(co["fte"])) == by_hand["fte"]
    assert co["costPerFte"] == _euros(by_hand["costs"] / by_hand["fte"]) == "66654.38"
    assert co["municipalShareOfCosts"] == round(float(by_hand["subsidy"] / by_hand["costs"]), 4)
    assert co["costPerUniqueVisitorAtTarget"] == _euros(
        by_hand["costs"] / by_hand["visitors_target"]
    )
    assert {s["source"]: s["amount"] for s in co["incomeBySource"]}["Stadsdeel Zuidoost"] == (
        "248000.00"
    )
    assert {c["category"]: c["amount"] for c in co["costsByCategory"]} == {
        "staff": "340188.00",
        "housing": "50414.00",
        "other": "35986.00",
    }
    # nobody visited in the demo data: no cost per visitor, and not 0 either
    assert co["uniqueVisitors"] == 0
    assert co["costPerUniqueVisitor"] is None
    assert co["reasons"]["costPerUniqueVisitor"] == "no-visitors"
    assert co["costPerService"] is None
    assert co["volunteersPerFte"] == 0


async def test_per_room_only_the_money_that_is_known_per_room(client):
    body = await _efficiency(client, year=2019)
    assert {r["room"] for r in body["rooms"]} == set(ROOMS)
    for room in body["rooms"]:
        assert room["fte"] == 1.6
        # the budget is the cooperative's: a room's income and costs are unknown, not 0
        assert room["income"] is None and room["costs"] is None and room["balance"] is None
        assert room["reasons"]["income"] == "not-kept-per-room"
        assert room["reasons"]["costPerFte"] == "not-kept-per-room"
    assert _room(body, "samen-sterk")["municipalSubsidy"] == "59000.00"
    for slug in THREE_ROOMS:
        assert _room(body, slug)["municipalSubsidy"] is None
        assert _room(body, slug)["reasons"]["municipalSubsidy"] == "joint-grant"


async def test_a_quarter_takes_the_years_money_pro_rata(client):
    body = await _efficiency(client, year=2019, quarter=1)
    co = body["cooperative"]
    share = Decimal(90) / Decimal(365)  # 1 January to 31 March 2019
    assert co["income"] == _euros(Decimal("399500") * share) == "98506.85"
    assert co["costs"] == _euros(Decimal("426588") * share) == "105186.08"
    assert co["municipalSubsidy"] == _euros(Decimal("248000") * share)
    assert co["fte"] == 6.4  # a rate, not an amount
    assert body["shareOfYear"] == round(90 / 365, 4)


async def test_visitors_services_and_volunteers_come_from_the_registrations(
    client, volunteer, coordinator
):
    ids = []
    for day in ("2019-02-01", "2019-02-02", "2019-05-03"):
        created = await client.post(
            "/registrations",
            headers=volunteer,
            json={"room": "multibron", "activity": "forms", "occurredOn": day, "resident": {}},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["residentId"])
    group = await client.post(
        "/registrations",
        headers=volunteer,
        json={
            "room": "multibron",
            "activity": "connection",
            "occurredOn": "2019-03-01",
            "headcount": 17,
        },
    )
    assert group.status_code == 201
    recorded = await client.post(
        f"/residents/{ids[0]}/volunteering",
        headers=coordinator,
        json={"room": "multibron", "since": "2019-01-15"},
    )
    assert recorded.status_code == 201, recorded.text
    body = await _efficiency(client, "coordinator.multibron", year=2019)
    assert body["cooperative"] is None
    assert [r["room"] for r in body["rooms"]] == ["multibron"]
    room = body["rooms"][0]
    assert room["uniqueVisitors"] == 3
    assert room["services"] == 3 + 17
    assert room["activeVolunteers"] == 1
    assert room["volunteersPerFte"] == round(1 / 1.6, 2)
    assert room["reasons"]["costPerUniqueVisitor"] == "not-kept-per-room"
    district = (await _efficiency(client, year=2019))["cooperative"]
    # three visitors and one volunteer are too few people to show the district: hidden, as
    # in /indicators/performance, and so is every figure worked out from them
    for figure in ("uniqueVisitors", "services", "activeVolunteers"):
        assert district[figure] is None
        assert district["reasons"][figure] == "hidden"
    assert district["costPerUniqueVisitor"] is None
    assert district["costPerService"] is None


async def test_a_year_without_a_budget_has_no_money_figures(client, stadsdeel):
    body = await _efficiency(client, year=2023)
    co = body["cooperative"]
    for name in ("income", "costs", "balance", "municipalSubsidy", "fte", "costPerFte"):
        assert co[name] is None
        assert co["reasons"][name] == "no-budget"
    assert_problem(await client.get("/budgets/2023", headers=stadsdeel), 404)


async def test_efficiency_csv_opens_in_excel_with_negative_balances_as_numbers(client, stadsdeel):
    response = await client.get(
        "/indicators/efficiency",
        headers={**stadsdeel, "Accept": "text/csv"},
        params={"year": 2019},
    )
    assert response.status_code == 200
    assert "doelmatigheid-2019.csv" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith(
        "\ufeffjaar;van;tot en met;kamer;cijfer;onderdeel;waarde;reden;kamernaam;toelichting\r\n"
    )
    lines = text.lstrip("\ufeff").split("\r\n")
    assert "2019;2019-01-01;2019-12-31;coöperatie;balance;;-27088,00;;coöperatie;" in lines
    assert (
        "2019;2019-01-01;2019-12-31;coöperatie;costsByCategory;staff;340188,00;;coöperatie;"
        in lines
    )
    # the reason's code and its Dutch words, the room's slug and its name
    assert (
        "2019;2019-01-01;2019-12-31;multibron;income;;;not-kept-per-room;MultiBron;"
        "niet per kamer bijgehouden" in lines
    )


def _as_input(budget):
    return {k: budget[k] for k in ("income", "costs", "subsidies", "staff")}


async def test_put_round_trips_get_in_json_and_csv(client, stadsdeel):
    year_2019 = (await client.get("/budgets/2019", headers=stadsdeel)).json()
    assert year_2019["totals"] == {
        "income": "399500.00",
        "costs": "426588.00",
        "balance": "-27088.00",
        "municipalSubsidy": "248000.00",
        "fte": 6.4,
    }
    assert year_2019["subsidies"][0] == {
        "grantor": "Stadsdeel Zuidoost",
        "kind": "structural",
        "rooms": ["casa-jepie-makandra", "multibron", "de-handreiking"],
        "amount": "189000.00",
    }
    put = await client.put("/budgets/2020", headers=stadsdeel, json=_as_input(year_2019))
    assert put.status_code == 200, put.text
    again = (await client.get("/budgets/2020", headers=stadsdeel)).json()
    assert {**again, "year": 2019} == year_2019

    as_csv = await client.get("/budgets/2019", headers={**stadsdeel, "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "subsidy;structural;Stadsdeel Zuidoost;casa-jepie-makandra, multibron, " in (as_csv.text)
    put = await client.put(
        "/budgets/2021",
        headers={**stadsdeel, "Content-Type": "text/csv"},
        content=as_csv.content,
    )
    assert put.status_code == 200, put.text
    back = await client.get("/budgets/2021", params={"format": "csv"}, headers=stadsdeel)
    assert back.content == as_csv.content


async def test_a_change_says_which_years_figures_moved_and_is_audited(client, stadsdeel, admin):
    budget = _as_input((await client.get("/budgets/2019", headers=stadsdeel)).json())
    budget["costs"][1]["amount"] = "60414.00"  # housing up by 10,000
    response = await client.put("/budgets/2019", headers=stadsdeel, json=budget)
    assert response.status_code == 200, response.text
    moved = response.json()["moved"]
    assert moved["year"] == 2019
    assert moved["periodClosed"] is True
    assert moved["figures"] == [
        {"figure": "costs", "before": "426588.00", "after": "436588.00"},
        {"figure": "balance", "before": "-27088.00", "after": "-37088.00"},
    ]
    unchanged = await client.put("/budgets/2019", headers=stadsdeel, json=budget)
    assert unchanged.json()["moved"]["figures"] == []
    events = (
        await client.get("/audit-events", headers=admin, params={"action": "budgets.replace"})
    ).json()["items"]
    assert len(events) == 2
    first = min(events, key=lambda e: e["at"])
    me = (await client.get("/me", headers=stadsdeel)).json()
    assert first["actorId"] == me["id"]
    assert first["objectId"] == "2019"
    assert [f["figure"] for f in first["details"]["moved"]] == ["costs", "balance"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"income": [{"source": "DOEN", "amount": "-1.00"}]}, "income.0.amount"),
        ({"income": [{"source": "DOEN", "amount": "1.001"}]}, "income.0.amount"),
        ({"income": [{"source": "DOEN", "amount": 1e20}]}, "income.0.amount"),
        ({"income": [{"source": "DOEN", "amount": "NaN"}]}, "income.0.amount"),
        ({"costs": [{"category": "food", "name": "x", "amount": "1"}]}, "costs.0.category"),
        ({"staff": [{"room": "nowhere", "function": "coach", "fte": "0.1"}]}, "staff.0.room"),
        ({"staff": [{"room": "multibron", "function": "coach", "fte": "0.125"}]}, "staff.0.fte"),
        (
            {"subsidies": [{"grantor": "SD", "kind": "once", "rooms": ["multibron"], "amount": 1}]},
            "subsidies.0.kind",
        ),
        (
            {
                "subsidies": [
                    {"grantor": "SD", "kind": "incidental", "rooms": ["atlantis"], "amount": 1}
                ]
            },
            "subsidies.0.rooms",
        ),
        (
            {"income": [{"source": "DOEN", "amount": "1"}, {"source": "DOEN", "amount": "2"}]},
            "income.1",
        ),
    ],
)
async def test_bad_money_is_refused_by_field_and_nothing_changes(client, change, where, stadsdeel):
    before = (await client.get("/budgets/2019", headers=stadsdeel)).json()
    problem = assert_problem(await client.put("/budgets/2019", headers=stadsdeel, json=change), 400)
    assert where in [p["name"] for p in problem["invalidParams"]]
    assert (await client.get("/budgets/2019", headers=stadsdeel)).json() == before


@pytest.mark.parametrize(
    ("sheet", "reason"),
    [
        ("section;kind;name;rooms;amount;fte\r\nincome;;DOEN;;189.000,00;\r\n", "thousands"),
        ("section;kind;name;rooms;amount;fte\r\ngift;;DOEN;;1;\r\n", "section"),
        ("section;kind;name;rooms;amount;fte\r\nincome;;DOEN;;-5;\r\n", "number"),
        ("section;kind;name;rooms;amount;fte\r\nstaff;coach;;mars;;0,1\r\n", "unknown room"),
        ("section;kind;name;rooms\r\ncost;staff;Inzet;;\r\n", "amount"),
        ("kind;amount\r\nincome;5\r\n", "header"),
        ("year;section;kind;name;rooms;amount;fte\r\n2018;income;;DOEN;;5;\r\n", "2018"),
    ],
)
async def test_a_bad_sheet_names_its_line(client, sheet, reason, stadsdeel):
    problem = assert_problem(
        await client.put(
            "/budgets/2019",
            headers={**stadsdeel, "Content-Type": "text/csv"},
            content=sheet.encode(),
        ),
        400,
    )
    params = problem["invalidParams"]
    assert params[0]["name"] in ("line 1", "line 2")
    assert reason in " ".join(p["reason"] for p in params)


async def test_who_may_see_and_set_the_money(client, coordinator, admin):
    body = {"income": [{"source": "DOEN", "amount": "1.00"}]}
    for who in ("coordinator.multibron", "volunteer.multibron", "madi"):
        headers = await headers_for(client, who)
        assert_problem(await client.get("/budgets/2019", headers=headers), 403)
        assert_problem(await client.put("/budgets/2019", headers=headers, json=body), 403)
    for who in ("volunteer.multibron", "madi"):
        headers = await headers_for(client, who)
        assert_problem(
            await client.get("/indicators/efficiency", headers=headers, params={"year": 2019}),
            403,
        )
    assert_problem(
        await client.get(
            "/indicators/efficiency",
            headers=coordinator,
            params={"year": 2019, "room": "samen-sterk"},
        ),
        403,
    )
    assert (await client.put("/budgets/2030", headers=admin, json=body)).status_code == 200
