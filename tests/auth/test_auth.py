"""Signing in: every demo account gets a token; tokens rotate, end, and are throttled."""

import asyncio

import pytest
from sqlalchemy import select

from api.auth.models import RefreshToken
from tests.helpers import (
    PARTNERS,
    ROOMS,
    assert_problem,
    bearer,
    partner_sign_in,
    sign_in,
    token_request,
)

PEOPLE = ["admin", "stadsdeel"] + [f"{r}.{s}" for s in ROOMS for r in ("coordinator", "volunteer")]


@pytest.mark.parametrize("username", PEOPLE)
async def test_every_demo_person_gets_a_token_and_me_says_who_it_is(client, username):
    tokens = await sign_in(client, username)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    assert tokens["refresh_token"]
    me = (await client.get("/me", headers=bearer(tokens["access_token"]))).json()
    assert me["username"] == username
    assert me["kind"] == "user"
    role, _, room = username.partition(".")
    assert me["role"] == role
    assert me["rooms"] == ([room] if room else [])
    assert me["partner"] is None


@pytest.mark.parametrize("code", PARTNERS)
async def test_every_demo_partner_system_gets_a_token_without_refresh(client, code):
    tokens = await partner_sign_in(client, code)
    assert "refresh_token" not in tokens
    me = (await client.get("/me", headers=bearer(tokens["access_token"]))).json()
    assert me == {
        "kind": "client",
        "id": me["id"],
        "username": code,
        "displayName": me["displayName"],
        "role": "partner",
        "rooms": [],
        "partner": code,
    }


async def test_a_partner_may_sign_in_with_http_basic(client):
    response = await client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=("madi", "demo-secret")
    )
    assert response.status_code == 200


async def test_a_wrong_password_is_an_oauth_invalid_grant_problem(client):
    response = await client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "admin", "password": "wrong-password"},
    )
    body = assert_problem(response, 400)
    assert body["error"] == "invalid_grant"
    assert body["error_description"]


async def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client):
    unknown = await token_request(client, "password", username="nobody", password="wrong-password")
    wrong = await token_request(client, "password", username="admin", password="wrong-password")
    assert unknown.json() == wrong.json()


async def test_a_wrong_client_secret_is_401_invalid_client(client):
    response = await token_request(
        client, "client_credentials", client_id="madi", client_secret="nope"
    )
    body = assert_problem(response, 401)
    assert body["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "implicit"}, "unsupported_grant_type"),
        ({"grant_type": "password", "username": "admin"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
    ],
)
async def test_incomplete_token_requests_get_oauth_errors(client, form, error):
    body = assert_problem(await client.post("/auth/token", data=form), 400)
    assert body["error"] == error


async def test_a_refresh_token_rotates_and_the_old_one_dies(client):
    first = await sign_in(client, "volunteer.multibron")
    response = await token_request(client, "refresh_token", refresh_token=first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/me", headers=bearer(second["access_token"]))).status_code == 200


async def test_reusing_a_used_refresh_token_kills_the_whole_family(client, db):
    first = await sign_in(client, "volunteer.multibron")
    second = (
        await token_request(client, "refresh_token", refresh_token=first["refresh_token"])
    ).json()
    # a thief replays the first refresh token
    replay = await token_request(client, "refresh_token", refresh_token=first["refresh_token"])
    assert assert_problem(replay, 400)["error"] == "invalid_grant"
    # everything of that sign-in is dead now: the newest access and refresh tokens too
    response = await client.get("/me", headers=bearer(second["access_token"]))
    assert_problem(response, 401)
    assert "invalid_token" in response.headers["WWW-Authenticate"]
    again = await token_request(client, "refresh_token", refresh_token=second["refresh_token"])
    assert_problem(again, 400)
    # and the reuse is in the audit trail
    admin = await sign_in(client, "admin")
    events = (
        await client.get(
            "/audit-events",
            params={"action": "auth.refresh_reuse"},
            headers=bearer(admin["access_token"]),
        )
    ).json()["items"]
    assert len(events) == 1


async def test_refresh_tokens_are_stored_as_hashes_only(client, db):
    tokens = await sign_in(client, "volunteer.multibron")
    with db.engine.connect() as conn:
        stored = list(conn.execute(select(RefreshToken.token_hash)).scalars())  # type: ignore[call-overload]
    assert tokens["refresh_token"] not in stored
    assert all(len(h) == 64 for h in stored)


async def test_revoking_ends_the_access_token_and_its_refresh_chain(client):
    tokens = await sign_in(client, "coordinator.multibron")
    response = await client.post("/auth/revoke", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json() == {"revoked": True}
    assert_problem(await client.get("/me", headers=bearer(tokens["access_token"])), 401)
    refresh = await token_request(client, "refresh_token", refresh_token=tokens["refresh_token"])
    assert_problem(refresh, 400)


async def test_revoking_by_refresh_token_in_the_form_ends_the_session(client):
    tokens = await sign_in(client, "coordinator.multibron")
    response = await client.post("/auth/revoke", data={"token": tokens["refresh_token"]})
    assert response.json() == {"revoked": True}
    assert_problem(await client.get("/me", headers=bearer(tokens["access_token"])), 401)


async def test_revoking_an_unknown_token_is_not_an_error(client):
    response = await client.post("/auth/revoke", data={"token": "never-issued"})
    assert response.status_code == 200
    assert response.json() == {"revoked": False}


async def test_five_failures_for_one_username_get_429_with_retry_after(client):
    for _ in range(5):
        response = await token_request(
            client, "password", username="volunteer.multibron", password="x"
        )
        assert response.status_code == 400
    throttled = await token_request(
        client, "password", username="volunteer.multibron", password="demo-password"
    )
    assert_problem(throttled, 429)
    assert 1 <= int(throttled.headers["Retry-After"]) <= 900
    # another person at the same desk still signs in at once
    assert (await sign_in(client, "coordinator.multibron"))["access_token"]


async def test_a_correct_sign_in_clears_earlier_failures(client):
    for _ in range(4):
        await token_request(client, "password", username="volunteer.multibron", password="x")
    await sign_in(client, "volunteer.multibron")
    for _ in range(4):
        await token_request(client, "password", username="volunteer.multibron", password="x")
    assert (await sign_in(client, "volunteer.multibron"))["access_token"]


async def test_one_address_trying_many_usernames_is_throttled(client):
    for i in range(20):
        await token_request(client, "password", username=f"guess{i}", password="x")
    response = await token_request(client, "password", username="admin", password="demo-password")
    assert_problem(response, 429)


async def test_sign_ins_and_failures_are_audited_without_passwords(client):
    await token_request(client, "password", username="stadsdeel", password="typo-secret")
    admin = await sign_in(client, "admin")
    response = await client.get("/audit-events", headers=bearer(admin["access_token"]))
    events = response.json()["items"]
    actions = [e["action"] for e in events]
    assert "auth.sign_in_failed" in actions
    assert "auth.sign_in" in actions
    assert "typo-secret" not in response.text
    assert "demo-password" not in response.text


async def test_a_person_changes_their_own_password(client):
    tokens = await sign_in(client, "volunteer.multibron")
    headers = bearer(tokens["access_token"])
    wrong = await client.put(
        "/me/password",
        headers=headers,
        json={"currentPassword": "not-it", "newPassword": "a-new-long-password"},
    )
    assert_problem(wrong, 400)
    ok = await client.put(
        "/me/password",
        headers=headers,
        json={"currentPassword": "demo-password", "newPassword": "a-new-long-password"},
    )
    assert ok.status_code == 204
    assert await sign_in(client, "volunteer.multibron", "a-new-long-password")


async def test_a_deactivated_account_loses_access_at_once(client):
    admin = bearer((await sign_in(client, "admin"))["access_token"])
    volunteer = await sign_in(client, "volunteer.samen-sterk")
    me = (await client.get("/me", headers=bearer(volunteer["access_token"]))).json()
    response = await client.patch(f"/users/{me['id']}", headers=admin, json={"active": False})
    assert response.status_code == 200
    assert_problem(await client.get("/me", headers=bearer(volunteer["access_token"])), 401)
    refused = await token_request(
        client, "password", username="volunteer.samen-sterk", password="demo-password"
    )
    assert_problem(refused, 400)


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
