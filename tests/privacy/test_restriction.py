"""Restriction (GDPR art. 18) holds on every write path: a restricted resident is kept, and
every attempt to process the resident further is a 409 that changes nothing."""

from datetime import date, timedelta

import pytest

from tests.helpers import assert_problem, headers_for

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
RESTRICTED = "restricted"


@pytest.fixture
async def henk(client, coordinator, volunteer):
    """Henk: helped at MultiBron, referred to MaDi, consented to MaDi; then restricted."""
    first = await client.post(
        "/registrations",
        headers=volunteer,
        json={
            "room": "multibron",
            "activity": "forms",
            "occurredOn": YESTERDAY,
            "resident": {"name": "Henk de Vries"},
        },
    )
    assert first.status_code == 201, first.text
    resident_id = first.json()["residentId"]
    resident = (await client.get(f"/residents/{resident_id}", headers=volunteer)).json()
    referral = await client.post(
        "/referrals",
        headers=volunteer,
        json={
            "room": "multibron",
            "partner": "madi",
            "residentId": resident_id,
            "reason": "debts with three creditors",
        },
    )
    assert referral.status_code == 201, referral.text
    consent = await client.post(
        f"/residents/{resident_id}/consents",
        headers=volunteer,
        json={"partner": "madi", "textVersion": "2026-1"},
    )
    assert consent.status_code == 201, consent.text
    restricted = await client.put(
        f"/residents/{resident_id}/restriction",
        headers=coordinator,
        json={"restricted": True},
    )
    assert restricted.json() == {"restricted": True}
    return {
        **resident,
        "registration": first.json(),
        "referral": referral.json(),
        "consent": consent.json(),
    }


async def _registrations(client, coordinator, henk):
    listed = await client.get(
        "/registrations",
        headers=coordinator,
        params={"residentId": henk["id"], "includeVoided": "true"},
    )
    return listed.json()["items"]


def _refused(response):
    problem = assert_problem(response, 409)
    assert RESTRICTED in problem["detail"]
    return problem


async def _new_help(client, volunteer, **who):
    return await client.post(
        "/registrations",
        headers=volunteer,
        json={"room": "multibron", "activity": "forms", "occurredOn": YESTERDAY, **who},
    )


async def test_no_new_help_by_id(client, henk, coordinator, volunteer):
    _refused(await _new_help(client, volunteer, residentId=henk["id"]))
    assert len(await _registrations(client, coordinator, henk)) == 1


async def test_no_new_help_by_code(client, henk, coordinator, volunteer):
    _refused(await _new_help(client, volunteer, residentCode=henk["code"]))
    assert len(await _registrations(client, coordinator, henk)) == 1


async def test_no_new_help_through_the_import_and_the_line_is_named(client, henk, coordinator):
    text = (
        "date,activity,residentCode,headcount\n"
        f"{YESTERDAY},connection,,12\n"
        f"{YESTERDAY},forms,{henk['code']},\n"
    )
    response = await client.post(
        "/registrations/import",
        params={"room": "multibron"},
        headers={**coordinator, "Content-Type": "text/csv"},
        content=text.encode(),
    )
    problem = _refused(response)
    assert "line 3" in problem["detail"]
    assert [p["name"] for p in problem["invalidParams"]] == ["line 3"]
    listed = await client.get("/registrations", headers=coordinator)
    assert len(listed.json()["items"]) == 1  # nothing of the list was kept, not even line 2


async def _patch_registration(client, coordinator, henk, change):
    registration = henk["registration"]
    return await client.patch(
        f"/registrations/{registration['id']}",
        headers={**coordinator, "If-Match": f'"{registration["version"]}"'},
        json={"reason": "wrong day", **change},
    )


async def test_no_corrections(client, henk, coordinator):
    _refused(await _patch_registration(client, coordinator, henk, {"note": "changed"}))
    assert (await _registrations(client, coordinator, henk))[0]["note"] is None


async def test_no_voids(client, henk, coordinator):
    _refused(await _patch_registration(client, coordinator, henk, {"voided": True}))
    assert (await _registrations(client, coordinator, henk))[0]["voided"] is False


async def test_no_changes_to_the_resident(client, henk, coordinator, volunteer):
    url = f"/residents/{henk['id']}"
    _refused(await client.patch(url, headers=volunteer, json={"name": "X"}))
    shown = await client.get(url, headers=coordinator)
    assert shown.json()["name"] == "Henk de Vries"


async def test_no_new_consents(client, henk, coordinator, volunteer):
    url = f"/residents/{henk['id']}/consents"
    body = {"partner": "pbazo", "textVersion": "2026-1"}
    _refused(await client.post(url, headers=volunteer, json=body))
    listed = await client.get(url, headers=coordinator)
    assert [c["partner"] for c in listed.json()["items"]] == ["madi"]


async def test_a_consent_can_still_be_withdrawn(client, henk, volunteer):
    # withdrawing stops processing (MaDi no longer sees who Henk is): that is never refused
    url = f"/residents/{henk['id']}/consents/{henk['consent']['id']}"
    response = await client.delete(url, headers=volunteer)
    assert response.status_code == 204, response.text


async def test_no_new_referrals(client, henk, volunteer):
    response = await client.post(
        "/referrals",
        headers=volunteer,
        json={
            "room": "multibron",
            "partner": "pbazo",
            "residentId": henk["id"],
            "reason": "a second opinion",
        },
    )
    _refused(response)


@pytest.mark.parametrize(
    ("who", "to"), [("madi", "accepted"), ("volunteer.multibron", "withdrawn")]
)
async def test_no_referral_moves_by_either_side(client, henk, who, to, volunteer):
    url = f"/referrals/{henk['referral']['id']}"
    moved = await client.post(
        f"{url}/transitions",
        headers=await headers_for(client, who),
        json={"to": to, **({"reason": "other"} if to == "withdrawn" else {})},
    )
    _refused(moved)
    shown = await client.get(url, headers=volunteer)
    assert shown.json()["status"] == "sent"


async def test_no_measurements(client, henk, volunteer):
    response = await client.post(
        f"/residents/{henk['id']}/assessments",
        headers=volunteer,
        json={"instrument": "participation-ladder", "rung": 2, "assessedOn": YESTERDAY},
    )
    _refused(response)


async def test_no_volunteering(client, henk, coordinator):
    response = await client.post(
        f"/residents/{henk['id']}/volunteering",
        headers=coordinator,
        json={"room": "multibron", "since": YESTERDAY},
    )
    _refused(response)


async def test_lifting_the_restriction_lets_help_be_registered_again(
    client, henk, coordinator, volunteer
):
    await client.put(
        f"/residents/{henk['id']}/restriction",
        headers=coordinator,
        json={"restricted": False},
    )
    response = await _new_help(client, volunteer, residentCode=henk["code"])
    assert response.status_code == 201, response.text


async def test_erasure_is_still_possible(client, henk, coordinator):
    response = await client.delete(f"/residents/{henk['id']}", headers=coordinator)
    assert response.status_code == 204, response.text
