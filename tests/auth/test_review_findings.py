"""Findings of the security review of accounts and tokens, each kept fixed by a test."""

import asyncio

import pytest

from tests.helpers import assert_problem, bearer, headers_for, sign_in, token_request


async def test_a_coordinator_cannot_take_over_a_volunteer_who_also_serves_elsewhere(client):
    admin = await headers_for(client, "admin")
    shared = (
        await client.post(
            "/users",
            headers=admin,
            json={
                "username": "shared.v",
                "displayName": "Shared",
                "role": "volunteer",
                "rooms": ["multibron", "samen-sterk"],
                "password": "shared-password-1",
            },
        )
    ).json()
    coordinator = await headers_for(client, "coordinator.multibron")
    for change in (
        {"password": "coordinator-chose-this"},
        {"active": False},
        {"displayName": "Someone else"},
    ):
        response = await client.patch(f"/users/{shared['id']}", headers=coordinator, json=change)
        assert_problem(response, 403)
    assert await sign_in(client, "shared.v", "shared-password-1")


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "password", "username": "volunteer.multibron\x00x", "password": "x"},
        {"grant_type": "client_credentials", "client_id": "madi\x00", "client_secret": "x"},
        {"grant_type": "refresh_token", "refresh_token": "abc\x00"},
    ],
)
async def test_a_nul_byte_at_the_token_endpoint_is_a_400(client, form):
    response = await client.post("/auth/token", data=form)
    assert_problem(response, 400)


async def test_a_basic_header_that_is_not_base64_ascii_is_refused_not_a_crash(client):
    response = await client.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        headers=[(b"Authorization", b"Basic \xff\xff")],
    )
    assert_problem(response, 401)


async def test_nul_bytes_in_queries_and_rooms_are_400s(client):
    admin = await headers_for(client, "admin")
    assert_problem(await client.get("/audit-events", headers=admin, params={"action": "\x00"}), 400)
    body = {
        "username": "nul.user",
        "displayName": "N",
        "role": "volunteer",
        "rooms": ["multi\x00bron"],
    }
    assert_problem(await client.post("/users", headers=admin, json=body), 400)


async def test_concurrent_guesses_are_counted_before_more_are_checked(client, db):
    answers = await asyncio.gather(
        *(
            token_request(client, "password", username="volunteer.multibron", password=f"g{i}")
            for i in range(20)
        )
    )
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {400, 429}
    if db.backend == "postgresql":
        assert statuses.count(400) == 5  # exactly the limit was checked


async def test_guessing_your_own_password_with_a_token_is_throttled(client):
    first = await sign_in(client, "volunteer.multibron")
    headers = bearer(first["access_token"])
    for _ in range(5):
        wrong = await client.put(
            "/me/password",
            headers=headers,
            json={"currentPassword": "guess-guess", "newPassword": "a-new-long-password"},
        )
        assert_problem(wrong, 400)
    throttled = await client.put(
        "/me/password",
        headers=headers,
        json={"currentPassword": "demo-password", "newPassword": "a-new-long-password"},
    )
    assert_problem(throttled, 429)
    assert "Retry-After" in throttled.headers


async def test_after_a_password_change_only_this_sign_in_goes_on(client):
    first = await sign_in(client, "volunteer.multibron")
    other = await sign_in(client, "volunteer.multibron")
    changed = await client.put(
        "/me/password",
        headers=bearer(first["access_token"]),
        json={"currentPassword": "demo-password", "newPassword": "a-new-long-password"},
    )
    assert changed.status_code == 204
    assert (await client.get("/me", headers=bearer(first["access_token"]))).status_code == 200
    assert_problem(await client.get("/me", headers=bearer(other["access_token"])), 401)
    refresh = await token_request(client, "refresh_token", refresh_token=other["refresh_token"])
    assert_problem(refresh, 400)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/users/{user}", {"displayName": None}),
        ("/users/{user}", {"active": None}),
        ("/partner-clients/{client}", {"description": None}),
        ("/rooms/multibron", {"name": None}),
        ("/rooms/multibron", {"languages": None}),
    ],
)
async def test_null_for_a_field_that_cannot_be_empty_is_a_400(client, path, body):
    admin = await headers_for(client, "admin")
    users = (await client.get("/users", headers=admin, params={"limit": 500})).json()["items"]
    clients = (await client.get("/partner-clients", headers=admin)).json()["items"]
    url = path.format(user=users[0]["id"], client=clients[0]["id"])
    assert_problem(await client.patch(url, headers=admin, json=body), 400)


async def test_a_room_address_may_be_cleared_with_null(client):
    admin = await headers_for(client, "admin")
    response = await client.patch("/rooms/multibron", headers=admin, json={"address": None})
    assert response.status_code == 200
