"""Small helpers that read like the domain: sign in as someone, check a problem."""

from __future__ import annotations

from typing import Any

import httpx

DEMO_PASSWORD = "demo-password"
DEMO_SECRET = "demo-secret"
ROOMS = ["casa-jepie-makandra", "de-handreiking", "multibron", "samen-sterk"]
PARTNERS = ["madi", "pbazo", "pozo", "venzo"]


async def token_request(client: httpx.AsyncClient, grant_type: str, **form: str) -> httpx.Response:
    return await client.post("/auth/token", data={"grant_type": grant_type, **form})


async def _tokens(client: httpx.AsyncClient, grant_type: str, **form: str) -> dict[str, Any]:
    response = await token_request(client, grant_type, **form)
    assert response.status_code == 200, response.text
    return response.json()


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD
) -> dict[str, Any]:
    return await _tokens(client, "password", username=username, password=password)


async def partner_sign_in(
    client: httpx.AsyncClient, client_id: str, secret: str = DEMO_SECRET
) -> dict[str, Any]:
    return await _tokens(client, "client_credentials", client_id=client_id, client_secret=secret)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def headers_for(client: httpx.AsyncClient, who: str) -> dict[str, str]:
    """Authorization headers for a demo account ('volunteer.multibron', 'madi', ...)."""
    if who in PARTNERS:
        return bearer((await partner_sign_in(client, who))["access_token"])
    return bearer((await sign_in(client, who))["access_token"])


async def coordinator_of_rooms(
    client: httpx.AsyncClient, rooms: list[str], username: str = "coordinator.both"
) -> dict[str, str]:
    """Headers of a new coordinator of these rooms, made by the admin and signed in."""
    admin = await headers_for(client, "admin")
    created = await client.post(
        "/users",
        headers=admin,
        json={"username": username, "displayName": "Both", "role": "coordinator", "rooms": rooms},
    )
    assert created.status_code == 201, created.text
    tokens = await sign_in(client, username, created.json()["initialPassword"])
    return bearer(tokens["access_token"])


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    assert "Traceback" not in response.text
    return body
