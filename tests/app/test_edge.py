"""The edge of the service: whose address a request comes from, and how big its headers may be."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from api.main import create_app
from api.settings import Settings
from tests.helpers import assert_problem, token_request

PER_ADDRESS = 3


@asynccontextmanager
async def _client(settings: Settings, **changes: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"login_max_failures_per_address": PER_ADDRESS, **changes})
    )
    async with app.router.lifespan_context(app):
        # ASGITransport's requests come from 127.0.0.1, as from a process on the same machine
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
            yield c


async def _guess_from_many_addresses(client: httpx.AsyncClient) -> httpx.Response:
    """Wrong passwords for different usernames, each claiming another forwarded address;
    then a right password, from yet another."""
    for i in range(PER_ADDRESS):
        await client.post(
            "/auth/token",
            data={"grant_type": "password", "username": f"guess{i}", "password": "x"},
            headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
        )
    return await client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "admin", "password": "demo-password"},
        headers={"X-Forwarded-For": "203.0.113.200"},
    )


async def test_forwarded_for_from_loopback_is_not_believed_by_default(app_settings):
    assert app_settings.forwarded_allow_ips == []
    async with _client(app_settings) as client:
        response = await _guess_from_many_addresses(client)
    # every guess counted against 127.0.0.1, whatever the header claimed
    assert_problem(response, 429)


async def test_forwarded_for_is_believed_from_a_configured_proxy(app_settings):
    async with _client(app_settings, forwarded_allow_ips=["127.0.0.1"]) as client:
        response = await _guess_from_many_addresses(client)
        assert response.status_code == 200, response.text
        # the proxy's own address is not anybody's: its failures still count per client
        for _ in range(PER_ADDRESS):
            await token_request(client, "password", username="nobody", password="x")
        assert_problem(await token_request(client, "password", username="admin", password="x"), 429)


async def test_an_8_mb_header_gets_431_and_a_normal_request_is_fine(client):
    response = await client.get("/rooms", headers={"X-Padding": "a" * 8 * 1024 * 1024})
    body = assert_problem(response, 431)
    assert "header" in body["detail"]
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert "x-request-id" in response.headers
    ok = await client.get("/rooms", headers={"X-Padding": "a" * 8000})
    assert ok.status_code == 200


async def test_the_header_limit_is_a_setting(app_settings):
    async with _client(app_settings, max_header_bytes=2048) as client:
        assert_problem(await client.get("/rooms", headers={"X-Padding": "a" * 3000}), 431)
        assert (await client.get("/rooms", headers={"X-Padding": "a" * 1000})).status_code == 200


def test_the_settings_read_a_list_of_proxies_from_the_environment(monkeypatch):
    monkeypatch.setenv("BWK_FORWARDED_ALLOW_IPS", "10.0.0.5, 10.0.0.6")
    monkeypatch.setenv("BWK_MAX_HEADER_BYTES", "8192")
    settings = Settings()
    assert settings.forwarded_allow_ips == ["10.0.0.5", "10.0.0.6"]
    assert settings.max_header_bytes == 8192
