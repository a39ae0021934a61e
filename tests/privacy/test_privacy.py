"""The residents' rights: access, erasure, restriction, retention, and an audit of every look."""

import uuid
from datetime import date, timedelta

import anyio
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import api.models
from api.cli import app as cli
from tests.helpers import assert_problem, headers_for

NAME = "Gerda Zonnebloem-Achterberg"
NOTE = "Gerda heeft hulp nodig bij de huurtoeslag"
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


@pytest.fixture
async def gerda(client, volunteer, volunteer_samen_sterk):
    """Gerda, helped at MultiBron and at Samen Sterk."""
    first = await client.post(
        "/registrations",
        headers=volunteer,
        json={
            "room": "multibron",
            "activity": "forms",
            "occurredOn": "2019-03-04",
            "resident": {
                "name": NAME,
                "contact": "06-11112222",
                "birthYear": 1961,
                "postcodeArea": "1103",
            },
            "note": NOTE,
        },
    )
    resident_id = first.json()["residentId"]
    code = (await client.get(f"/residents/{resident_id}", headers=volunteer)).json()["code"]
    await client.post(
        "/registrations",
        headers=volunteer_samen_sterk,
        json={
            "room": "samen-sterk",
            "activity": "debt-and-budget",
            "occurredOn": YESTERDAY,
            "residentCode": code,
            "note": f"{NAME} kwam terug",
        },
    )
    return {"id": resident_id, "code": code}


async def test_a_coordinator_exports_everything_kept_and_who_looked(client, gerda, coordinator):
    response = await client.get(f"/residents/{gerda['id']}/export", headers=coordinator)
    assert response.status_code == 200
    body = response.json()
    assert body["resident"]["name"] == NAME
    assert [r["room"] for r in body["registrations"]] == ["multibron", "samen-sterk"]
    assert body["registrations"][0]["note"] == NOTE
    who = {(e["who"], e["action"]) for e in body["accessLog"]}
    assert ("volunteer.multibron", "resident.read") in who
    assert ("volunteer.samen-sterk", "registration.create") in who
    again = (await client.get(f"/residents/{gerda['id']}/export", headers=coordinator)).json()
    assert ("coordinator.multibron", "resident.export") in {
        (e["who"], e["action"]) for e in again["accessLog"]
    }


async def test_only_the_coordinators_of_the_residents_rooms_export(client, gerda, volunteer):
    assert_problem(await client.get(f"/residents/{gerda['id']}/export", headers=volunteer), 403)
    other = await headers_for(client, "coordinator.de-handreiking")
    assert_problem(await client.get(f"/residents/{gerda['id']}/export", headers=other), 404)
    for who in ("admin", "stadsdeel", "madi"):
        headers = await headers_for(client, who)
        assert_problem(await client.get(f"/residents/{gerda['id']}/export", headers=headers), 403)


def _every_text(db) -> str:
    """Every value in every table, as text."""
    with db.engine.connect() as conn:
        return "\n".join(
            str(row._mapping)
            for table in api.models.metadata.sorted_tables
            for row in conn.execute(sa.select(table))
        )


async def _figures(client):
    stadsdeel = await headers_for(client, "stadsdeel")
    out = {}
    for params in ({"year": 2019}, {"year": date.today().year}):
        out[params["year"]] = (
            await client.get("/indicators/performance", headers=stadsdeel, params=params)
        ).json()
    return out


async def test_erasure_leaves_no_trace_of_the_person_and_the_figures_do_not_move(
    client, db, gerda, coordinator, volunteer
):
    before = await _figures(client)
    assert NAME in _every_text(db)
    response = await client.delete(f"/residents/{gerda['id']}", headers=coordinator)
    assert response.status_code == 204
    everything = _every_text(db)
    for trace in (NAME, "Gerda", "06-11112222", gerda["code"], "huurtoeslag"):
        assert trace not in everything, trace
    assert await _figures(client) == before
    assert_problem(await client.get(f"/residents/{gerda['id']}", headers=volunteer), 404)
    again = await client.post(
        "/registrations",
        headers=volunteer,
        json={
            "room": "multibron",
            "activity": "forms",
            "occurredOn": YESTERDAY,
            "residentCode": gerda["code"],
        },
    )
    assert_problem(again, 400)


async def test_a_restricted_resident_is_kept_but_not_processed(
    client, gerda, coordinator, volunteer
):
    url = f"/residents/{gerda['id']}"
    response = await client.put(
        f"{url}/restriction", headers=coordinator, json={"restricted": True}
    )
    assert response.json() == {"restricted": True}
    listed = (await client.get("/residents", headers=volunteer)).json()["items"]
    assert gerda["id"] not in [r["id"] for r in listed]
    help_ = await client.post(
        "/registrations",
        headers=volunteer,
        json={
            "room": "multibron",
            "activity": "forms",
            "occurredOn": YESTERDAY,
            "residentId": gerda["id"],
        },
    )
    assert_problem(help_, 409)
    assert_problem(await client.patch(url, headers=volunteer, json={"name": "X"}), 409)
    shown = (await client.get(url, headers=coordinator)).json()
    assert shown["restricted"] is True
    assert (await client.get(f"{url}/export", headers=coordinator)).status_code == 200
    await client.put(f"{url}/restriction", headers=coordinator, json={"restricted": False})
    listed = (await client.get("/residents", headers=volunteer)).json()["items"]
    assert gerda["id"] in [r["id"] for r in listed]


async def test_every_route_that_touches_a_resident_leaves_an_audit_event(
    client, db, gerda, coordinator, volunteer, admin
):
    rid = gerda["id"]
    rid_uuid = uuid.UUID(rid)
    registration = (
        await client.get("/registrations", headers=volunteer, params={"residentId": rid})
    ).json()["items"][0]
    calls = [
        ("GET", f"/residents/{rid}", volunteer, None, {}),
        ("GET", "/residents", volunteer, None, {}),
        ("PATCH", f"/residents/{rid}", volunteer, {"languages": ["nl"]}, {}),
        ("GET", "/registrations", volunteer, None, {"residentId": rid}),
        ("GET", f"/registrations/{registration['id']}", volunteer, None, {}),
        (
            "PATCH",
            f"/registrations/{registration['id']}",
            {**coordinator, "If-Match": f'"{registration["version"]}"'},
            {"note": "corrected", "reason": "typo"},
            {},
        ),
        (
            "POST",
            "/registrations",
            volunteer,
            {"room": "multibron", "activity": "forms", "occurredOn": YESTERDAY, "residentId": rid},
            {},
        ),
        ("GET", f"/residents/{rid}/export", coordinator, None, {}),
        ("PUT", f"/residents/{rid}/restriction", coordinator, {"restricted": False}, {}),
        ("DELETE", f"/residents/{rid}", coordinator, None, {}),
    ]
    table = api.models.metadata.tables["audit_event"]
    for method, url, headers, body, params in calls:
        with db.engine.connect() as conn:
            before = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.resident_id == rid_uuid)
            ).scalar_one()
        response = await client.request(method, url, headers=headers, json=body, params=params)
        assert response.status_code < 300, (method, url, response.text)
        with db.engine.connect() as conn:
            after = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.resident_id == rid_uuid)
            ).scalar_one()
        assert after > before, f"{method} {url} left no audit event"
    # and the trail holds ids, never the name
    trail = await client.get(
        "/audit-events", headers=admin, params={"residentId": rid, "limit": 500}
    )
    assert NAME not in trail.text


async def test_retention_anonymises_who_has_not_come_for_two_years(
    client, db, gerda, cli_env, volunteer
):
    old = await client.post(
        "/registrations",
        headers=volunteer,
        json={
            "room": "multibron",
            "activity": "forms",
            "occurredOn": "2019-05-05",
            "resident": {"name": "Oude Bekende"},
        },
    )
    old_id = old.json()["residentId"]

    def bwk(*args):  # the command runs its own event loop: off this one
        return anyio.to_thread.run_sync(CliRunner().invoke, cli, list(args))

    dry = await bwk("retention", "run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would remove: 1 residents anonymised" in dry.output
    assert (await client.get(f"/residents/{old_id}", headers=volunteer)).status_code == 200
    first = await bwk("retention", "run")
    assert "removed: 1 residents anonymised" in first.output
    assert_problem(await client.get(f"/residents/{old_id}", headers=volunteer), 404)
    assert (await client.get(f"/residents/{gerda['id']}", headers=volunteer)).status_code == 200
    assert "Oude Bekende" not in _every_text(db)
    second = await bwk("retention", "run")
    assert "removed: 0 residents anonymised" in second.output


async def test_when_the_audit_write_fails_the_data_is_not_returned(
    client, gerda, monkeypatch, volunteer
):
    from api.audit import service as audit

    async def broken(*_args, **_kwargs):
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(audit, "record", broken)
    monkeypatch.setattr("api.residents.service.record", broken)
    response = await client.get(f"/residents/{gerda['id']}", headers=volunteer)
    assert response.status_code == 500
    assert NAME not in response.text


async def test_erasure_also_takes_consents_and_referral_texts(
    client, db, gerda, volunteer, coordinator, partner
):
    await client.post(
        f"/residents/{gerda['id']}/consents",
        headers=volunteer,
        json={"partner": "madi", "textVersion": "2026-1"},
    )
    referral = (
        await client.post(
            "/referrals",
            headers=volunteer,
            json={
                "room": "multibron",
                "partner": "madi",
                "residentId": gerda["id"],
                "reason": f"{NAME}: schulden",
                "note": "Gerda belt zelf",
            },
        )
    ).json()
    exported = (await client.get(f"/residents/{gerda['id']}/export", headers=coordinator)).json()
    assert [r["partner"] for r in exported["referrals"]] == ["madi"]
    assert [c["partner"] for c in exported["consents"]] == ["madi"]
    await client.delete(f"/residents/{gerda['id']}", headers=coordinator)
    assert "Gerda" not in _every_text(db)
    seen = (await client.get(f"/referrals/{referral['id']}", headers=partner)).json()
    assert seen["identity"] is None
    assert seen["status"] == "sent"
