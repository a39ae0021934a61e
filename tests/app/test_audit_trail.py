"""Every route declares which audit events it leaves. The table is built against the app's own
routes: a route that is not listed here fails the suite, so no route can forget its trail.

One line per route: who calls it, the audit actions one successful call must leave (reads and
writes; an empty set for a route that shows no person and changes nothing worth recording), and
the request. `{resident_id}`-style placeholders in paths, bodies and parameters are filled in
from a small world (a resident with a name, a registration, a referral, a consent) that every
case gets afresh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from api.audit.service import audit_event
from tests.app.test_role_matrix import app_routes
from tests.helpers import DEMO_PASSWORD, headers_for

DAY = (date.today() - timedelta(days=7)).isoformat()
NAME = "Ans Oudenaarde-Vlijt"
CONTACT = "06-13572468"


@dataclass(frozen=True)
class Case:
    who: str
    actions: frozenset[str]
    request: dict[str, Any] = field(default_factory=dict)


def on(who: str, *actions: str, **request: Any) -> Case:
    """`who` calls the route (with httpx's json=, params=, data=, content=, headers=) and the
    call leaves exactly `actions` on the audit trail."""
    return Case(who, frozenset(actions), request)


COORDINATOR = "coordinator.multibron"
VOLUNTEER = "volunteer.multibron"
CSV = {"Content-Type": "text/csv"}
TARGET = {"room": "multibron", "indicator": "forms", "unit": "services", "value": 180}
OUTCOME_TARGET = {"room": "multibron", "indicator": "ladder-up", "value": 4}

AUDIT: dict[str, Case] = {
    "GET /rooms": on("anonymous"),
    "GET /rooms/{slug}": on("anonymous"),
    "PATCH /rooms/{slug}": on("admin", "room.update", json={"name": "MultiBron"}),
    "GET /activities": on("anonymous"),
    "GET /partners": on("anonymous"),
    "GET /health": on("anonymous"),
    "GET /health/ready": on("anonymous"),
    "GET /metrics": on("anonymous"),
    "POST /auth/token": on(
        "anonymous",
        "auth.sign_in",
        data={"grant_type": "password", "username": VOLUNTEER, "password": DEMO_PASSWORD},
    ),
    "POST /auth/revoke": on(VOLUNTEER, "auth.revoke"),
    # the caller's own account: seeing yourself is no look at someone else
    "GET /me": on(VOLUNTEER),
    "PUT /me/password": on(
        VOLUNTEER,
        "user.password_change",
        json={"currentPassword": DEMO_PASSWORD, "newPassword": "a-new-long-password"},
    ),
    "GET /users": on("admin", "user.list"),
    "POST /users": on(
        COORDINATOR,
        "user.create",
        json={
            "username": "volunteer.new",
            "role": "volunteer",
            "displayName": "Nieuw",
            "rooms": ["multibron"],
        },
    ),
    "GET /users/{user_id}": on(COORDINATOR, "user.read"),
    "PATCH /users/{user_id}": on(COORDINATOR, "user.update", json={"displayName": "Vrijwilliger"}),
    # partner systems are not people
    "GET /partner-clients": on("admin"),
    "POST /partner-clients": on(
        "admin",
        "client.create",
        json={"clientId": "madi-two", "partner": "madi", "description": "MaDi's second system"},
    ),
    "GET /partner-clients/{client_id}": on("admin"),
    "PATCH /partner-clients/{client_id}": on(
        "admin", "client.update", json={"description": "Venzo"}
    ),
    "POST /partner-clients/{client_id}/secret": on("admin", "client.rotate_secret"),
    "GET /audit-events": on("admin", "audit.read"),
    "POST /residents": on(VOLUNTEER, "resident.create", json={"room": "multibron", "name": "Bo"}),
    "GET /residents": on(VOLUNTEER, "resident.list"),
    "GET /residents/{resident_id}": on(VOLUNTEER, "resident.read"),
    "PATCH /residents/{resident_id}": on(VOLUNTEER, "resident.update", json={"birthYear": 1960}),
    "GET /residents/{resident_id}/export": on(COORDINATOR, "resident.export"),
    "DELETE /residents/{resident_id}": on(COORDINATOR, "resident.erase"),
    "PUT /residents/{resident_id}/restriction": on(
        COORDINATOR, "resident.restrict", json={"restricted": True}
    ),
    "POST /registrations": on(
        VOLUNTEER,
        "registration.create",
        json={"room": "multibron", "activity": "forms", "occurredOn": DAY, "residentId": "{r}"},
    ),
    "GET /registrations": on(VOLUNTEER, "registration.list"),
    "GET /registrations/{registration_id}": on(VOLUNTEER, "registration.read"),
    "PATCH /registrations/{registration_id}": on(
        COORDINATOR,
        "registration.correct",
        json={"reason": "wrong activity", "activity": "dutch-language"},
        headers={"If-Match": '"1"'},
    ),
    "POST /registrations/import": on(
        COORDINATOR,
        "registration.import",
        "resident.code_lookup",
        params={"room": "multibron"},
        headers=CSV,
        content=f"date,activity,residentCode,residentName,headcount,note\n{DAY},forms,{{code}},,,\n",
    ),
    "GET /indicators/performance": on("stadsdeel", params={"year": 2026}),
    "GET /targets": on("stadsdeel", params={"year": 2026}),
    "GET /indicators/participants": on("stadsdeel", params={"year": 2026, "by": "age-band"}),
    "PUT /targets/{year}": on("stadsdeel", "targets.replace", json={"items": [TARGET]}),
    "GET /budgets/{year}": on("stadsdeel"),
    "PUT /budgets/{year}": on(
        "stadsdeel",
        "budgets.replace",
        json={"income": [{"source": "Gemeente", "amount": "1000.00"}], "costs": []},
    ),
    "GET /indicators/efficiency": on("stadsdeel", params={"year": 2019}),
    "GET /residents/{resident_id}/assessments": on(VOLUNTEER, "assessment.list"),
    "POST /residents/{resident_id}/assessments": on(
        VOLUNTEER,
        "assessment.create",
        json={"instrument": "participation-ladder", "assessedOn": DAY, "rung": 2},
    ),
    "GET /residents/{resident_id}/volunteering": on(VOLUNTEER, "volunteering.read"),
    "POST /residents/{resident_id}/volunteering": on(
        COORDINATOR, "volunteering.create", json={"room": "multibron", "since": DAY}
    ),
    "GET /indicators/outcomes": on("stadsdeel", params={"year": 2026}),
    "GET /outcome-targets": on("stadsdeel", params={"year": 2026}),
    "PUT /outcome-targets/{year}": on(
        "stadsdeel", "outcome_targets.replace", json={"items": [OUTCOME_TARGET]}
    ),
    "POST /referrals": on(
        VOLUNTEER,
        "referral.create",
        json={"room": "multibron", "partner": "pbazo", "residentId": "{r}", "reason": "debts"},
    ),
    "GET /referrals": on("madi", "referral.list"),
    "GET /referrals/{referral_id}": on("madi", "referral.read"),
    "POST /referrals/{referral_id}/transitions": on(
        "madi", "referral.accepted", json={"to": "accepted"}
    ),
    "GET /residents/{resident_id}/consents": on(VOLUNTEER, "consent.read"),
    "POST /residents/{resident_id}/consents": on(
        VOLUNTEER, "consent.give", json={"partner": "pbazo", "textVersion": "2026-01"}
    ),
    "DELETE /residents/{resident_id}/consents/{consent_id}": on(VOLUNTEER, "consent.withdraw"),
    "GET /indicators/referrals": on("stadsdeel", params={"year": 2026}),
    # no person, account or referral in it: nothing to record
    "GET /public/assignments": on("anonymous", params={"year": 2026}),
    "PUT /partners/{code}/assignment": on(
        "admin",
        "partner.assignment",
        json={"text": "Schuldhulp voor wie vastloopt", "activities": ["debt-and-budget"]},
    ),
    "GET /reports/accountability": on("stadsdeel", params={"year": 2019}),
    "PUT /partners/{code}/webhook": on(
        "admin", "webhook.register", json={"url": "http://127.0.0.1:9/hook"}
    ),
    "GET /partners/{code}/webhook": on("admin"),
    "DELETE /partners/{code}/webhook": on("admin", "webhook.remove"),
    "GET /partners/{code}/webhook/deliveries": on("admin"),
}


def test_every_route_is_in_the_audit_table():
    assert app_routes() == set(AUDIT), "add the new route's audit actions to AUDIT"


def _fill(value: Any, world: dict[str, str]) -> Any:
    """Put the world's ids into a request: "{r}" alone is a value, {name} inside a text."""
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, str):
        return world[value[1:-1]] if value == "{r}" else value.format(**world)
    return value


async def _created(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
async def world(client, admin) -> dict[str, str]:
    """A named resident of MultiBron with help registered, a referral to MaDi and consent."""
    coordinator = await headers_for(client, COORDINATOR)
    resident = await _created(
        await client.post(
            "/residents",
            headers=coordinator,
            json={"room": "multibron", "name": NAME, "contact": CONTACT},
        )
    )
    r = resident["id"]
    help_given = {"room": "multibron", "activity": "forms", "occurredOn": DAY, "residentId": r}
    registration = await _created(
        await client.post("/registrations", headers=coordinator, json=help_given)
    )
    referral = await _created(
        await client.post(
            "/referrals",
            headers=coordinator,
            json={"room": "multibron", "partner": "madi", "residentId": r, "reason": "debts"},
        )
    )
    consent = await _created(
        await client.post(
            f"/residents/{r}/consents",
            headers=coordinator,
            json={"partner": "madi", "textVersion": "2026-01"},
        )
    )
    users = (await client.get("/users", headers=admin, params={"limit": 500})).json()["items"]
    clients = (await client.get("/partner-clients", headers=admin)).json()["items"]
    await _created(
        await client.put(
            "/partners/madi/webhook", headers=admin, json={"url": "http://127.0.0.1:9/in"}
        )
    )
    return {
        "r": r,
        "resident_id": r,
        "code": resident["code"],
        "registration_id": registration["id"],
        "referral_id": referral["id"],
        "consent_id": consent["id"],
        "user_id": next(u["id"] for u in users if u["username"] == VOLUNTEER),
        "client_id": next(c["id"] for c in clients if c["clientId"] == "venzo"),
        "slug": "multibron",
        "code_": "madi",
        "year": "2019",
    }


def _events_of(db: Any, request_id: str) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_event).where(audit_event.c.request_id == request_id))
        return [dict(r._mapping) for r in rows]


@pytest.mark.parametrize("route", sorted(AUDIT))
async def test_each_route_leaves_its_audit_events(client, db, world, route):
    case = AUDIT[route]
    method, template = route.split(" ", 1)
    # {code} in a path is a partner's code; in a CSV it is the resident's
    url = template.replace("{code}", "{code_}").format(**world)
    headers = {} if case.who == "anonymous" else await headers_for(client, case.who)
    request = _fill(case.request, world)
    headers.update(request.pop("headers", {}))
    response = await client.request(method, url, headers=headers, **request)
    assert response.status_code < 300, f"{route}: {response.status_code} {response.text}"

    events = _events_of(db, response.headers["x-request-id"])
    assert {e["action"] for e in events} == case.actions, route
    # ids only: nothing on the trail says who the person is
    trail = json.dumps([e["details"] for e in events], default=str)
    assert NAME not in trail
    assert CONTACT not in trail
    assert world["code"] not in trail
    # a response that shows who the resident is names the resident on the trail
    if NAME in response.text or world["code"] in response.text:
        assert world["resident_id"] in {str(e["resident_id"]) for e in events}, route


REPLAYABLE = {
    "POST /residents": {"room": "multibron", "name": "Bo"},
    "POST /registrations": {
        "room": "multibron",
        "activity": "forms",
        "occurredOn": DAY,
        "residentId": "{r}",
    },
    "POST /referrals": {
        "room": "multibron",
        "partner": "pbazo",
        "residentId": "{r}",
        "reason": "debts",
    },
}


@pytest.mark.parametrize("route", sorted(REPLAYABLE))
async def test_an_idempotent_replay_is_a_look_on_the_record(client, db, world, route):
    path = route.split(" ", 1)[1]
    headers = {**await headers_for(client, VOLUNTEER), "Idempotency-Key": "retry-1"}
    body = _fill(REPLAYABLE[route], world)
    first = await client.post(path, headers=headers, json=body)
    again = await client.post(path, headers=headers, json=body)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()

    events = _events_of(db, again.headers["x-request-id"])
    assert [e["action"] for e in events] == ["idempotency.replay"]
    shown = first.json()
    assert events[0]["object_type"] == path.strip("/").removesuffix("s")
    assert events[0]["object_id"] == shown["id"]
    assert str(events[0]["resident_id"]) == shown.get("residentId", shown["id"])


async def test_the_referral_list_names_every_resident_it_shows(client, db, world):
    coordinator = await headers_for(client, COORDINATOR)
    other = (
        await client.post("/residents", headers=coordinator, json={"room": "multibron"})
    ).json()
    referral = {
        "room": "multibron",
        "partner": "pbazo",
        "residentId": other["id"],
        "reason": "rent",
    }
    assert (await client.post("/referrals", headers=coordinator, json=referral)).status_code == 201

    listed = await client.get("/referrals", headers=coordinator)
    shown = {r["residentId"] for r in listed.json()["items"]}
    events = _events_of(db, listed.headers["x-request-id"])
    assert shown == {world["resident_id"], other["id"]}
    assert {str(e["resident_id"]) for e in events} == shown
    assert {e["object_id"] for e in events} == {r["id"] for r in listed.json()["items"]}


async def test_a_partner_list_shows_who_only_with_consent_and_records_each_look(
    client, db, world, partner
):
    listed = await client.get("/referrals", headers=partner)
    (item,) = listed.json()["items"]
    assert item["identity"]["name"] == NAME
    (event,) = _events_of(db, listed.headers["x-request-id"])
    assert (event["action"], str(event["resident_id"])) == ("referral.list", world["resident_id"])
