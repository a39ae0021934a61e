"""Administration: admins manage everyone; a coordinator manages its own rooms' volunteers."""

from tests.helpers import assert_problem, sign_in, token_request


async def _id_of(client, headers, username):
    users = (await client.get("/users", headers=headers, params={"limit": 500})).json()["items"]
    return next(u["id"] for u in users if u["username"] == username)


async def test_an_admin_adds_a_coordinator_who_can_sign_in_with_the_shown_password(client, admin):
    response = await client.post(
        "/users",
        headers=admin,
        json={
            "username": "fatima.k",
            "displayName": "Fatima",
            "role": "coordinator",
            "rooms": ["multibron", "samen-sterk"],
        },
    )
    assert response.status_code == 201
    created = response.json()
    assert created["rooms"] == ["multibron", "samen-sterk"]
    assert created["initialPassword"]
    tokens = await sign_in(client, "fatima.k", created["initialPassword"])
    assert tokens["access_token"]
    # the password is shown once: reading the account again does not show it
    again = await client.get(f"/users/{created['id']}", headers=admin)
    assert "initialPassword" not in again.json()


async def test_a_username_is_unique(client, admin):
    body = {"username": "admin", "displayName": "Another", "role": "admin", "password": "x" * 12}
    assert_problem(await client.post("/users", headers=admin, json=body), 409)


async def test_room_roles_need_a_room_and_district_roles_have_none(client, admin):
    no_room = {"username": "nora", "displayName": "N", "role": "volunteer", "rooms": []}
    assert_problem(await client.post("/users", headers=admin, json=no_room), 400)
    with_room = {
        "username": "dirk",
        "displayName": "D",
        "role": "stadsdeel",
        "rooms": ["multibron"],
    }
    assert_problem(await client.post("/users", headers=admin, json=with_room), 400)
    unknown = {"username": "ursula", "displayName": "U", "role": "volunteer", "rooms": ["atlantis"]}
    assert_problem(await client.post("/users", headers=admin, json=unknown), 400)


async def test_a_coordinator_sees_only_the_volunteers_of_its_rooms(client, coordinator, admin):
    users = (await client.get("/users", headers=coordinator)).json()["items"]
    assert [u["username"] for u in users] == ["volunteer.multibron"]
    other = await _id_of(client, admin, "volunteer.samen-sterk")
    assert_problem(await client.get(f"/users/{other}", headers=coordinator), 404)
    assert_problem(
        await client.patch(f"/users/{other}", headers=coordinator, json={"active": False}), 404
    )


async def test_a_coordinator_adds_a_volunteer_to_its_own_room_only(client, coordinator):
    ok = await client.post(
        "/users",
        headers=coordinator,
        json={
            "username": "kees",
            "displayName": "Kees",
            "role": "volunteer",
            "rooms": ["multibron"],
        },
    )
    assert ok.status_code == 201
    elsewhere = await client.post(
        "/users",
        headers=coordinator,
        json={
            "username": "piet",
            "displayName": "Piet",
            "role": "volunteer",
            "rooms": ["samen-sterk"],
        },
    )
    assert_problem(elsewhere, 403)
    promote = await client.post(
        "/users",
        headers=coordinator,
        json={"username": "boss", "displayName": "B", "role": "admin"},
    )
    assert_problem(promote, 403)


async def test_a_coordinator_resets_a_volunteers_password_and_old_sessions_end(
    client, coordinator, volunteer
):
    volunteer_id = await _id_of(client, coordinator, "volunteer.multibron")
    response = await client.patch(
        f"/users/{volunteer_id}", headers=coordinator, json={"password": "brand-new-password"}
    )
    assert response.status_code == 200
    assert_problem(await client.get("/me", headers=volunteer), 401)
    assert await sign_in(client, "volunteer.multibron", "brand-new-password")


async def test_admin_changes_are_in_the_audit_trail_with_ids_not_names(client, admin):
    created = (
        await client.post(
            "/users",
            headers=admin,
            json={"username": "jan.v", "displayName": "Jan Visser", "role": "stadsdeel"},
        )
    ).json()
    await client.patch(f"/users/{created['id']}", headers=admin, json={"displayName": "J. V."})
    response = await client.get("/audit-events", headers=admin)
    events = response.json()["items"]
    mine = [e for e in events if e["objectId"] == created["id"]]
    assert {e["action"] for e in mine} == {"user.create", "user.update"}
    assert "Jan Visser" not in response.text
    # reading the trail is itself audited
    again = (await client.get("/audit-events", headers=admin)).json()["items"]
    assert again[0]["action"] == "audit.read"


async def test_an_admin_adds_a_partner_client_whose_secret_is_shown_once(client, admin):
    response = await client.post(
        "/partner-clients",
        headers=admin,
        json={"clientId": "madi-crm", "description": "MaDi case system", "partner": "madi"},
    )
    assert response.status_code == 201
    created = response.json()
    token = await token_request(
        client, "client_credentials", client_id="madi-crm", client_secret=created["clientSecret"]
    )
    assert token.status_code == 200
    listed = (await client.get("/partner-clients", headers=admin)).json()["items"]
    assert all("clientSecret" not in c for c in listed)
    assert_problem(
        await client.post(
            "/partner-clients",
            headers=admin,
            json={"clientId": "x-client", "description": "X", "partner": "nobody"},
        ),
        400,
    )


async def test_rotating_a_client_secret_ends_the_old_secret_and_tokens(client, admin, partner):
    clients = (await client.get("/partner-clients", headers=admin)).json()["items"]
    madi_id = next(c["id"] for c in clients if c["clientId"] == "madi")
    rotated = (await client.post(f"/partner-clients/{madi_id}/secret", headers=admin)).json()
    assert_problem(await client.get("/me", headers=partner), 401)
    old = await token_request(
        client, "client_credentials", client_id="madi", client_secret="demo-secret"
    )
    assert_problem(old, 401)
    new = await token_request(
        client, "client_credentials", client_id="madi", client_secret=rotated["clientSecret"]
    )
    assert new.status_code == 200


async def test_an_admin_fills_in_a_rooms_address_and_opening_hours(client, admin):
    response = await client.patch(
        "/rooms/multibron",
        headers=admin,
        json={
            "address": "Voorbeeldstraat 1",
            "postcode": "1102 AB",
            "openingHours": [{"day": "monday", "opens": "09:30", "closes": "16:00"}],
            "languages": ["nl", "en", "pap"],
        },
    )
    assert response.status_code == 200
    public = (await client.get("/rooms/multibron")).json()
    assert public["openingHours"] == [{"day": "monday", "opens": "09:30", "closes": "16:00"}]
    assert public["languages"] == ["nl", "en", "pap"]
    bad = await client.patch(
        "/rooms/multibron",
        headers=admin,
        json={"openingHours": [{"day": "someday", "opens": "25:00", "closes": "9"}], "slug": "x"},
    )
    body = assert_problem(bad, 400)
    assert len(body["invalidParams"]) >= 4


async def test_a_coordinator_cannot_take_over_a_volunteer_who_also_serves_elsewhere(
    client, admin, coordinator
):
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
    for change in (
        {"password": "coordinator-chose-this"},
        {"active": False},
        {"displayName": "Someone else"},
    ):
        response = await client.patch(f"/users/{shared['id']}", headers=coordinator, json=change)
        assert_problem(response, 403)
    assert await sign_in(client, "shared.v", "shared-password-1")
