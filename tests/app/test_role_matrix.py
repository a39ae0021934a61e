"""Every route declares who may call it. The matrix is built from the app's own routes:
a route that is not listed here fails the suite, so no route can forget its policy."""

from __future__ import annotations

import uuid

import pytest

from api.main import create_app
from tests.helpers import headers_for

CALLERS = [
    "anonymous",
    "admin",
    "stadsdeel",
    "coordinator.multibron",
    "volunteer.multibron",
    "volunteer.samen-sterk",
    "madi",
    "pbazo",
]
PUBLIC = set(CALLERS)
SIGNED_IN = PUBLIC - {"anonymous"}
ADMIN = {"admin"}
ADMIN_OR_COORDINATOR = {"admin", "coordinator.multibron"}
PEOPLE = SIGNED_IN - {"madi", "pbazo"}
READERS = {
    "admin",
    "stadsdeel",
    "coordinator.multibron",
    "volunteer.multibron",
    "volunteer.samen-sterk",
}
DISTRICT = {"admin", "stadsdeel"}
STAFF = {"coordinator.multibron", "volunteer.multibron", "volunteer.samen-sterk"}
COORDINATOR = {"coordinator.multibron"}
PARTNERS = {"madi", "pbazo"}

# route -> (who may call it, a body that passes validation where the policy is checked late)
MATRIX: dict[str, tuple[set[str], dict | None]] = {
    "GET /rooms": (PUBLIC, None),
    "GET /rooms/{slug}": (PUBLIC, None),
    "PATCH /rooms/{slug}": (ADMIN, {}),
    "GET /activities": (PUBLIC, None),
    "GET /partners": (PUBLIC, None),
    "GET /health": (PUBLIC, None),
    "GET /health/ready": (PUBLIC, None),
    # who may read it is decided by address (BWK_METRICS_ALLOW), not by role
    "GET /metrics": (PUBLIC, None),
    "POST /auth/token": (PUBLIC, None),
    "POST /auth/revoke": (PUBLIC, None),
    "GET /me": (SIGNED_IN, None),
    "PUT /me/password": (
        PEOPLE,
        {"currentPassword": "not-the-password", "newPassword": "long-enough-password"},
    ),
    "GET /users": (ADMIN_OR_COORDINATOR, None),
    "POST /users": (ADMIN_OR_COORDINATOR, {}),
    "GET /users/{user_id}": (ADMIN_OR_COORDINATOR, None),
    "PATCH /users/{user_id}": (ADMIN_OR_COORDINATOR, {}),
    "GET /partner-clients": (ADMIN, None),
    "POST /partner-clients": (ADMIN, {}),
    "GET /partner-clients/{client_id}": (ADMIN, None),
    "PATCH /partner-clients/{client_id}": (ADMIN, {}),
    "POST /partner-clients/{client_id}/secret": (ADMIN, None),
    "GET /audit-events": (ADMIN, None),
    "POST /residents": (STAFF, {}),
    "GET /residents": (STAFF, None),
    "GET /residents/{resident_id}": (STAFF, None),
    "PATCH /residents/{resident_id}": (STAFF, {}),
    "GET /residents/{resident_id}/export": (COORDINATOR, None),
    "DELETE /residents/{resident_id}": (COORDINATOR, None),
    "PUT /residents/{resident_id}/restriction": (COORDINATOR, {}),
    "POST /registrations": (STAFF, {}),
    "GET /registrations": (STAFF, None),
    "GET /registrations/{registration_id}": (STAFF, None),
    "PATCH /registrations/{registration_id}": (COORDINATOR, {}),
    "POST /registrations/import": (COORDINATOR, None),
    "GET /indicators/performance": (READERS, None),
    "GET /targets": (READERS, None),
    "GET /indicators/participants": (READERS, None),
    "PUT /targets/{year}": (DISTRICT, {}),
    "GET /budgets/{year}": (DISTRICT, None),
    "PUT /budgets/{year}": (DISTRICT, {}),
    "GET /indicators/efficiency": (DISTRICT | COORDINATOR, None),
    "GET /residents/{resident_id}/assessments": (STAFF, None),
    "POST /residents/{resident_id}/assessments": (STAFF, {}),
    "GET /residents/{resident_id}/volunteering": (STAFF, None),
    "POST /residents/{resident_id}/volunteering": (COORDINATOR, {}),
    "GET /indicators/outcomes": (READERS, None),
    "GET /outcome-targets": (READERS, None),
    "PUT /outcome-targets/{year}": (DISTRICT, {}),
    "POST /referrals": (STAFF | PARTNERS, {}),
    "GET /referrals": (STAFF | PARTNERS, None),
    "GET /referrals/{referral_id}": (STAFF | PARTNERS, None),
    "POST /referrals/{referral_id}/transitions": (STAFF | PARTNERS, {}),
    "GET /residents/{resident_id}/consents": (STAFF, None),
    "POST /residents/{resident_id}/consents": (STAFF, {}),
    "DELETE /residents/{resident_id}/consents/{consent_id}": (STAFF, None),
    "GET /indicators/referrals": (DISTRICT | COORDINATOR, None),
    "GET /public/assignments": (PUBLIC, None),
    "PUT /partners/{code}/assignment": (ADMIN, {}),
    "GET /reports/accountability": (DISTRICT | COORDINATOR, None),
    "PUT /partners/{code}/webhook": (ADMIN, {}),
    "GET /partners/{code}/webhook": (ADMIN, None),
    "DELETE /partners/{code}/webhook": (ADMIN, None),
    "GET /partners/{code}/webhook/deliveries": (ADMIN, None),
}


HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def app_routes() -> set[str]:
    """Every operation the app serves, from its own OpenAPI document (no route is hidden)."""
    paths = create_app().openapi()["paths"]
    return {
        f"{m.upper()} {path}" for path, item in paths.items() for m in item if m in HTTP_METHODS
    }


def test_every_route_is_in_the_role_matrix():
    assert app_routes() == set(MATRIX), "add the new route's policy to MATRIX"


@pytest.fixture
async def callers(client):
    headers = {"anonymous": {}}
    for who in CALLERS[1:]:
        headers[who] = await headers_for(client, who)
    return headers


@pytest.fixture
async def path_values(client, callers):
    users = (await client.get("/users", headers=callers["admin"], params={"limit": 500})).json()
    volunteer = next(u for u in users["items"] if u["username"] == "volunteer.multibron")
    clients = (await client.get("/partner-clients", headers=callers["admin"])).json()
    # not a caller: rotating its secret ends its sessions
    venzo = next(c for c in clients["items"] if c["clientId"] == "venzo")
    return {
        "slug": "multibron",
        "user_id": volunteer["id"],
        "client_id": venzo["id"],
        "resident_id": str(uuid.uuid4()),
        "registration_id": str(uuid.uuid4()),
        "year": 2031,
        "referral_id": str(uuid.uuid4()),
        "consent_id": str(uuid.uuid4()),
        "code": "hvo-querido",
    }


async def test_the_matrix_holds_for_every_route_and_caller(client, callers, path_values):
    failures = []
    # revoking ends the caller's token, so it goes last
    for route, (allowed, body) in sorted(
        MATRIX.items(), key=lambda i: (i[0] == "POST /auth/revoke", i[0])
    ):
        method, path = route.split(" ", 1)
        url = path.format(**path_values)
        for who in CALLERS:
            kwargs = {"json": body} if body is not None else {}
            response = await client.request(method, url, headers=callers[who], **kwargs)
            status = response.status_code
            if who in allowed:
                ok = status not in (401, 403) and status < 500
            elif who == "anonymous":
                ok = status == 401
            else:
                ok = status == 403
            if not ok:
                failures.append(f"{route} as {who}: {status}")
    assert not failures, "\n".join(failures)
