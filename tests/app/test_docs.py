"""Swagger UI and ReDoc come from this service, and each page may load exactly what it needs."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

PAGES = ["/docs", "/redoc", "/docs/oauth2-redirect"]


def _policy(response) -> dict[str, str]:
    header = response.headers["content-security-policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("page", PAGES)
async def test_the_docs_pages_load_nothing_from_another_host(client, page):
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert all(s.startswith("/api/v1/") for s in sources), sources
    policy = _policy(response)
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "http" not in response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]
    # inline scripts run by their hash, not by 'unsafe-inline'
    assert "'unsafe-inline'" not in policy["script-src"]
    for script in re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    for source in sources:
        asset = await client.get(source.removeprefix("/api/v1"))
        assert asset.status_code == 200, source
        assert len(asset.content) > 1000


async def test_swagger_ui_reads_the_document_of_this_service(client):
    page = (await client.get("/docs")).text
    assert "url: '/api/v1/openapi.json'" in page
    assert "oauth2RedirectUrl: window.location.origin + '/api/v1/docs/oauth2-redirect'" in page
    assert "/api/v1/openapi.json" in (await client.get("/redoc")).text


async def test_every_other_answer_keeps_the_strict_policy(client):
    for path in ("/rooms", "/openapi.json", "/docs/static/swagger-ui-bundle.js", "/nowhere"):
        response = await client.get(path)
        policy = response.headers["content-security-policy"]
        assert policy == "default-src 'none'; frame-ancestors 'none'", path
