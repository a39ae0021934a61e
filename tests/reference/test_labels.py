"""Outcomes per quarter and month, counted by hand; and a Dutch label (`labelNl`) beside every
room, activity, indicator, instrument, domain, partner and reason code the figures name."""

from datetime import date
from typing import Any, get_args

from api.outcomes.models import INSTRUMENTS, OUTCOME_INDICATORS, ZRM_DOMAINS
from api.reference.labels import LABELLED, label_nl, labels
from api.referrals.schemas import Reason
from tests.helpers import ROOMS, headers_for

# participation ladder readings at MultiBron in 2019: (day, rung)
READINGS = {
    "r1": [("2019-07-01", 2), ("2019-07-20", 3), ("2019-09-15", 4)],
    "r2": [("2019-07-02", 3), ("2019-07-25", 3)],
    "r3": [("2019-07-03", 4), ("2019-08-10", 2)],
    "r4": [("2019-06-01", 1), ("2019-08-01", 3)],  # one reading in Q3: not measured there
    "r5": [("2019-08-01", 2), ("2019-09-01", 3)],
    "r6": [("2019-07-10", 2), ("2019-07-11", 1)],
}
LADDER_UP_TARGET = 8


def _by_hand(start: str, end: str) -> dict[str, int]:
    """Residents with two days in the period: first against latest reading."""
    counts = {"measured": 0, "up": 0, "same": 0, "down": 0}
    for readings in READINGS.values():
        inside = [(d, r) for d, r in readings if start <= d <= end]
        if len({d for d, _ in inside}) < 2:
            continue
        change = inside[-1][1] - inside[0][1]
        counts["measured"] += 1
        counts["up" if change > 0 else "down" if change < 0 else "same"] += 1
    return counts


async def _outcomes_2019(client):
    coordinator = await headers_for(client, "coordinator.multibron")
    people = {}
    for name, readings in READINGS.items():
        made = await client.post("/residents", headers=coordinator, json={"room": "multibron"})
        people[name] = made.json()["id"]
        for day, rung in readings:
            answer = await client.post(
                f"/residents/{people[name]}/assessments",
                headers=coordinator,
                json={"instrument": "participation-ladder", "assessedOn": day, "rung": rung},
            )
            assert answer.status_code == 201, answer.text
    became = await client.post(
        f"/residents/{people['r5']}/volunteering",
        headers=coordinator,
        json={"room": "multibron", "since": "2019-08-01"},
    )
    assert became.status_code == 201, became.text
    stadsdeel = await headers_for(client, "stadsdeel")
    target = {"room": "multibron", "indicator": "ladder-up", "value": LADDER_UP_TARGET}
    put = await client.put("/outcome-targets/2019", headers=stadsdeel, json={"items": [target]})
    assert put.status_code == 200, put.text
    return coordinator


def _ladder(body: dict[str, Any]) -> dict[str, Any]:
    room = next(r for r in body["rooms"] if r["room"] == "multibron")
    return next(i for i in room["instruments"] if i["instrument"] == "participation-ladder")


async def test_outcomes_per_quarter_and_month_equal_a_hand_count(client):
    coordinator = await _outcomes_2019(client)
    cases = [
        ({"quarter": 3}, "2019-07-01", "2019-09-30"),
        ({"month": 7}, "2019-07-01", "2019-07-31"),
        ({"quarter": 2}, "2019-04-01", "2019-06-30"),
        ({}, "2019-01-01", "2019-12-31"),
    ]
    for params, start, end in cases:
        answer = await client.get(
            "/indicators/outcomes",
            headers=coordinator,
            params={"year": 2019, "room": "multibron", **params},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["period"] == {"start": start, "end": end}
        ladder = _ladder(body)
        hand = _by_hand(start, end)
        assert {k: ladder[k] for k in hand} == hand, params
        # the target pro rata, as performance has it
        days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
        assert ladder["target"] == round(LADDER_UP_TARGET * days / 365, 1)
    q3 = _ladder(
        (
            await client.get(
                "/indicators/outcomes",
                headers=coordinator,
                params={"year": 2019, "room": "multibron", "quarter": 3},
            )
        ).json()
    )
    assert (q3["measured"], q3["up"], q3["same"], q3["down"]) == (5, 2, 1, 2)
    assert q3["target"] == 2 and q3["attainment"] == 1.0
    july = await client.get(
        "/indicators/outcomes",
        headers=coordinator,
        params={"year": 2019, "room": "multibron", "month": 7},
    )
    ladder = _ladder(july.json())
    assert (ladder["measured"], ladder["up"], ladder["same"], ladder["down"]) == (3, 1, 1, 1)
    assert july.json()["totals"]["becameVolunteer"] == 0
    august = await client.get(
        "/indicators/outcomes",
        headers=coordinator,
        params={"year": 2019, "room": "multibron", "month": 8, "format": "csv"},
    )
    assert "uitkomsten-2019-08.csv" in august.headers["content-disposition"]
    sheet = august.content.decode("utf-8-sig")
    assert "2019;totaal;became-volunteer;;;;;;;;1;;Totaal;Nieuwe vrijwilligers" in sheet


async def test_the_district_sees_a_month_too_small_to_show(client, stadsdeel):
    await _outcomes_2019(client)
    july = await client.get(
        "/indicators/outcomes", headers=stadsdeel, params={"year": 2019, "month": 7}
    )
    assert july.status_code == 200
    assert _ladder(july.json())["measured"] is None
    assert july.json()["disclosureControl"]["applied"] is True
    both = await client.get(
        "/indicators/outcomes", headers=stadsdeel, params={"year": 2019, "month": 7, "quarter": 3}
    )
    assert both.status_code == 400


def test_every_code_the_figures_use_has_a_dutch_label():
    codes = [
        *ROOMS,
        *INSTRUMENTS,
        *ZRM_DOMAINS,
        *OUTCOME_INDICATORS,
        *get_args(Reason),
        "unique-visitors",
        "forms",
        "work-guidance",
    ]
    missing = [c for c in codes if c not in labels() or label_nl(c) == c]
    assert not missing
    assert label_nl("multibron") == "MultiBron"
    assert label_nl("zrm") == "Zelfredzaamheidsmatrix"


def _unlabelled(value: Any, where: str = "") -> list[str]:
    """Every object that names a room, activity, indicator, ... but carries no Dutch label."""
    found = []
    if isinstance(value, dict):
        code = next((value[k] for k in LABELLED if isinstance(value.get(k), str)), None)
        if code is not None and not (value.get("labelNl") or "").strip():
            found.append(f"{where} {code}")
        if code is not None and code in labels() and value.get("labelNl") != label_nl(code):
            found.append(f"{where} {code}: {value.get('labelNl')}")
        for key, item in value.items():
            found += _unlabelled(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _unlabelled(item, f"{where}[{i}]")
    return found


async def test_every_room_activity_indicator_and_reason_has_its_dutch_label(
    client, coordinator, partner
):
    await _outcomes_2019(client)
    made = await client.post("/residents", headers=coordinator, json={"room": "multibron"})
    referral = await client.post(
        "/referrals",
        headers=coordinator,
        json={
            "room": "multibron",
            "partner": "madi",
            "residentId": made.json()["id"],
            "reason": "debts",
        },
    )
    declined = await client.post(
        f"/referrals/{referral.json()['id']}/transitions",
        headers=partner,
        json={"to": "declined", "reason": "no-capacity"},
    )
    assert declined.status_code == 200, declined.text
    this_year = date.today().year
    asks = [
        ("/indicators/performance", {"year": 2019}),
        ("/indicators/performance", {"year": 2019, "quarter": 2}),
        ("/indicators/participants", {"year": 2019, "by": "age-band"}),
        ("/indicators/participants", {"year": 2019, "by": "postcode-area"}),
        ("/indicators/outcomes", {"year": 2019}),
        ("/indicators/outcomes", {"year": 2019, "quarter": 3}),
        ("/indicators/referrals", {"year": this_year}),
        ("/indicators/efficiency", {"year": 2019}),
        ("/public/assignments", {"year": 2019}),
    ]
    for who in ("stadsdeel", "coordinator.multibron"):
        headers = await headers_for(client, who)
        for path, params in asks:
            answer = await client.get(path, headers=headers, params=params)
            assert answer.status_code == 200, (path, answer.text)
            assert not _unlabelled(answer.json()), (who, path, _unlabelled(answer.json()))
    figures = (
        await client.get("/indicators/referrals", headers=coordinator, params={"year": this_year})
    ).json()
    (item,) = figures["items"]
    assert item["labelNl"] == label_nl("madi")
    assert item["reasonLabels"] == {"no-capacity": "Geen plek"}
    sheet = await client.get(
        "/indicators/performance", headers=coordinator, params={"year": 2019, "format": "csv"}
    )
    assert ";MultiBron;Formulieren" in sheet.content.decode("utf-8-sig")
