"""The house conventions hold for every route: problem+json, API-Version, no redirects."""

import json

import pytest

from api import API_VERSION
from tests.helpers import assert_problem


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/rooms", 200),
        ("GET", "/rooms/", 404),
        ("GET", "/nowhere", 404),
        ("DELETE", "/rooms", 405),
        ("GET", "/me", 401),
    ],
)
async def test_every_response_carries_the_api_version_and_security_headers(
    client, method, path, status
):
    response = await client.request(method, path)
    assert response.status_code == status
    assert response.headers["API-Version"] == API_VERSION
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"]
    if status >= 400:
        assert_problem(response, status)


async def test_a_trailing_slash_is_a_404_not_a_redirect(client):
    response = await client.get("/rooms/", follow_redirects=False)
    assert_problem(response, 404)


async def test_outside_the_api_prefix_is_problem_json_too(client):
    response = await client.get("http://test/wp-admin")
    assert_problem(response, 404)


async def test_a_validation_error_is_400_listing_every_bad_field(client, admin):
    response = await client.post(
        "/users",
        headers=admin,
        json={"username": "X", "displayName": "", "role": "king", "surprise": 1},
    )
    body = assert_problem(response, 400)
    names = {p["name"] for p in body["invalidParams"]}
    assert {"username", "displayName", "role", "surprise"} <= names


async def test_malformed_json_is_a_400(client, admin):
    response = await client.post(
        "/users",
        headers={**admin, "Content-Type": "application/json"},
        content=b'{"username": ',
    )
    body = assert_problem(response, 400)
    assert body["invalidParams"][0]["name"] == "body"


async def test_a_body_over_the_limit_is_a_413(client, admin):
    big = json.dumps({"username": "a" * 2_000_000})
    response = await client.post(
        "/users", headers={**admin, "Content-Type": "application/json"}, content=big
    )
    assert_problem(response, 413)


async def test_a_request_id_from_the_caller_is_kept_and_a_bad_one_replaced(client):
    kept = await client.get("/rooms", headers={"X-Request-ID": "desk-42-abcdef"})
    assert kept.headers["X-Request-ID"] == "desk-42-abcdef"
    replaced = await client.get("/rooms", headers={"X-Request-ID": "<script>"})
    assert replaced.headers["X-Request-ID"] != "<script>"


async def test_an_unexpected_failure_is_a_500_that_shows_nothing_inside(app, client):
    async def explode() -> None:
        raise RuntimeError("secret internals: SELECT * FROM resident")

    app.add_api_route("/api/v1/explode", explode)
    response = await client.get("/explode")
    body = assert_problem(response, 500)
    assert "SELECT" not in response.text
    assert "secret" not in response.text
    assert response.headers["API-Version"] == API_VERSION
    assert body["type"] == "urn:bwk:problem:internal"


async def test_cors_allows_only_configured_origins(app_settings):
    import httpx

    from api.main import create_app

    settings = app_settings.model_copy(update={"cors_origins": ["https://desk.example"]})
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            allowed = await c.get("/api/v1/rooms", headers={"Origin": "https://desk.example"})
            other = await c.get("/api/v1/rooms", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://desk.example"
    assert "access-control-allow-origin" not in other.headers


async def test_nul_bytes_in_queries_and_rooms_are_400s(client, admin):
    assert_problem(await client.get("/audit-events", headers=admin, params={"action": "\x00"}), 400)
    body = {
        "username": "nul.user",
        "displayName": "N",
        "role": "volunteer",
        "rooms": ["multi\x00bron"],
    }
    assert_problem(await client.post("/users", headers=admin, json=body), 400)


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
async def test_null_for_a_field_that_cannot_be_empty_is_a_400(client, path, body, admin):
    users = (await client.get("/users", headers=admin, params={"limit": 500})).json()["items"]
    clients = (await client.get("/partner-clients", headers=admin)).json()["items"]
    url = path.format(user=users[0]["id"], client=clients[0]["id"])
    assert_problem(await client.patch(url, headers=admin, json=body), 400)
