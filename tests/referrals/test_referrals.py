"""Closed-loop referrals between the rooms and MaDi, PBAZO, POZO and Venzo."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

import api.models
from tests.helpers import assert_problem, headers_for

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


@pytest.fixture
async def resident(client, volunteer):
    response = await client.post(
        "/residents",
        headers=volunteer,
        json={"room": "multibron", "name": "Henk de Vries", "contact": "06-12312312"},
    )
    return response.json()


async def _refer(client, volunteer, resident, **extra):
    response = await client.post(
        "/referrals",
        headers=volunteer,
        json={
            "room": "multibron",
            "partner": "madi",
            "residentId": resident["id"],
            "reason": "debts with three creditors",
            "note": "room only: prefers mornings",
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _move(client, headers, referral, to, **extra):
    return await client.post(
        f"/referrals/{referral['id']}/transitions", headers=headers, json={"to": to, **extra}
    )


async def test_a_referral_goes_round_the_loop_from_a_room_to_madi(
    client, resident, coordinator, partner, volunteer
):
    referral = await _refer(client, volunteer, resident)
    assert referral["direction"] == "outgoing"
    assert referral["status"] == "sent"
    seen = (await client.get("/referrals", headers=partner)).json()["items"]
    assert [r["id"] for r in seen] == [referral["id"]]
    accepted = await _move(client, partner, referral, "accepted", note="madi only: case 881")
    assert accepted.json()["status"] == "accepted"
    completed = await _move(client, partner, referral, "completed")
    assert completed.json()["status"] == "completed"
    room_view = (await client.get(f"/referrals/{referral['id']}", headers=coordinator)).json()
    assert [m["status"] for m in room_view["history"]] == ["sent", "accepted", "completed"]
    assert [m["by"] for m in room_view["history"]] == ["room", "partner", "partner"]


async def test_a_referral_goes_round_the_loop_from_madi_to_a_room(client, coordinator, partner):
    created = await client.post(
        "/referrals",
        headers=partner,
        json={
            "room": "multibron",
            "reason": "needs help with forms",
            "contact": "06-55555555",
            "note": "madi only",
        },
    )
    assert created.status_code == 201
    referral = created.json()
    assert referral["direction"] == "incoming"
    assert referral["partner"] == "madi"
    assert (await _move(client, coordinator, referral, "accepted")).status_code == 200
    assert (await _move(client, coordinator, referral, "completed")).status_code == 200
    mine = (await client.get(f"/referrals/{referral['id']}", headers=partner)).json()
    assert mine["status"] == "completed"
    assert mine["note"] == "madi only"
    room = (await client.get(f"/referrals/{referral['id']}", headers=coordinator)).json()
    assert room["note"] is None  # the partner's note stays with the partner
    assert room["contact"] == "06-55555555"


async def test_another_partner_can_neither_see_nor_move_it(
    client, resident, volunteer, volunteer_samen_sterk
):
    referral = await _refer(client, volunteer, resident)
    pbazo = await headers_for(client, "pbazo")
    assert (await client.get("/referrals", headers=pbazo)).json()["items"] == []
    assert_problem(await client.get(f"/referrals/{referral['id']}", headers=pbazo), 404)
    assert_problem(await _move(client, pbazo, referral, "accepted"), 404)
    assert_problem(
        await client.get(f"/referrals/{referral['id']}", headers=volunteer_samen_sterk), 404
    )


async def test_the_partner_sees_who_it_is_only_with_consent(client, resident, partner, volunteer):
    referral = await _refer(client, volunteer, resident)
    url = f"/referrals/{referral['id']}"
    without = (await client.get(url, headers=partner)).json()
    assert without["identity"] is None
    assert without["residentId"] is None
    assert without["note"] is None  # never the room's note
    assert without["reason"] == "debts with three creditors"
    consents = f"/residents/{resident['id']}/consents"
    given = await client.post(
        consents,
        headers=volunteer,
        json={"partner": "madi", "textVersion": "2026-1"},
    )
    assert given.status_code == 201
    assert (await client.get(url, headers=partner)).json()["identity"]["name"] == "Henk de Vries"
    # consent for MaDi tells PBAZO nothing, and withdrawing hides the person at once
    await client.delete(f"{consents}/{given.json()['id']}", headers=volunteer)
    assert (await client.get(url, headers=partner)).json()["identity"] is None
    listed = (await client.get(consents, headers=volunteer)).json()["items"]
    assert listed[0]["withdrawnAt"] is not None


async def test_the_lifecycle_refuses_moves_it_does_not_allow(client, resident, partner, volunteer):
    referral = await _refer(client, volunteer, resident)
    madi, room = partner, volunteer
    assert_problem(await _move(client, madi, referral, "completed"), 409)
    assert_problem(await _move(client, room, referral, "accepted"), 403)  # the sender
    assert_problem(await _move(client, madi, referral, "declined"), 400)  # no reason
    assert_problem(await _move(client, madi, referral, "declined", reason="maybe"), 400)
    declined = await _move(client, madi, referral, "declined", reason="no-capacity")
    assert declined.json()["outcomeReason"] == "no-capacity"
    assert_problem(await _move(client, madi, referral, "accepted"), 409)
    second = await _refer(client, volunteer, resident)
    assert (
        await _move(client, room, second, "withdrawn", reason="resident-declined")
    ).status_code == 200


async def test_a_referral_waiting_too_long_is_overdue(client, db, resident, coordinator, volunteer):
    referral = await _refer(client, volunteer, resident)
    table = api.models.metadata.tables["referral"]
    with db.engine.begin() as conn:
        conn.execute(
            table.update().values(
                status_changed_at=sa.func.now() - sa.text("interval '20 days'")
                if db.backend == "postgresql"
                else sa.text("datetime('now', '-20 days')")
            )
        )
    overdue = (
        await client.get("/referrals", headers=coordinator, params={"overdue": True})
    ).json()["items"]
    assert [r["id"] for r in overdue] == [referral["id"]]
    assert overdue[0]["overdue"] is True


async def test_the_referral_figures_show_the_loop(client, resident, partner, stadsdeel, volunteer):
    done = await _refer(client, volunteer, resident)
    await _move(client, partner, done, "accepted")
    await _move(client, partner, done, "completed")
    refused = await _refer(client, volunteer, resident)
    await _move(client, partner, refused, "declined", reason="not-eligible")
    await _refer(client, volunteer, resident)
    body = (
        await client.get(
            "/indicators/referrals", headers=stadsdeel, params={"year": date.today().year}
        )
    ).json()
    madi = next(i for i in body["items"] if i["partner"] == "madi")
    assert madi["total"] == 3
    assert madi["byStatus"]["completed"] == 1
    assert madi["byStatus"]["declined"] == 1
    assert madi["byStatus"]["sent"] == 1
    assert madi["closureRate"] == 0.667
    assert madi["reasons"] == {"not-eligible": 1}
    assert madi["medianDaysToAcceptance"] == 0
    assert_problem(
        await client.get("/indicators/referrals", headers=partner, params={"year": 2026}),
        403,
    )
