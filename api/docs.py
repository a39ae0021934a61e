"""Swagger UI at /api/v1/docs and ReDoc at /api/v1/redoc, from files installed with us.

The scripts and styles come from the fastapi-offline package (swagger-ui-dist and redoc's
standalone bundle), served under /api/v1/docs/static: the pages work on a machine without
internet. Each page gets a Content-Security-Policy that allows exactly what it needs, and
nothing from another host; every other answer keeps the API's `default-src 'none'`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from api.openapi import PREFIX

DOCS = f"{PREFIX}/docs"
REDOC = f"{PREFIX}/redoc"
OAUTH2_REDIRECT = f"{DOCS}/oauth2-redirect"
STATIC = f"{DOCS}/static"
STATIC_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _policy(html: str, *, styles: str, workers: bool = False) -> str:
    """The page's policy: its own files, and its inline scripts by their hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    parts = [
        "default-src 'none'",
        f"script-src 'self' {hashes}".strip(),
        f"style-src {styles}",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",  # the document, and "Try it out" on this host
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    if workers:
        parts.append("worker-src blob:")  # ReDoc's search runs in a worker it makes
    return "; ".join(parts)


def _page(response: HTMLResponse, policy: str) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = policy
    response.headers["Cache-Control"] = "no-cache"
    return response


def install(app: FastAPI) -> None:
    assert app.openapi_url is not None
    title = "Buurtwerkkamers API"
    swagger = get_swagger_ui_html(
        openapi_url=app.openapi_url,
        title=f"{title} - Swagger UI",
        oauth2_redirect_url=OAUTH2_REDIRECT,
        swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC}/favicon.png",
    )
    swagger_html = bytes(swagger.body).decode()
    swagger_policy = _policy(swagger_html, styles="'self'")
    redoc = get_redoc_html(
        openapi_url=app.openapi_url,
        title=f"{title} - ReDoc",
        redoc_js_url=f"{STATIC}/redoc.standalone.js",
        redoc_favicon_url=f"{STATIC}/favicon.png",
        with_google_fonts=False,
    )
    redoc_html = bytes(redoc.body).decode()
    # ReDoc styles itself with <style> elements it writes at run time
    redoc_policy = _policy(redoc_html, styles="'self' 'unsafe-inline'", workers=True)
    redirect_html = bytes(get_swagger_ui_oauth2_redirect_html().body).decode()
    redirect_policy = _policy(redirect_html, styles="'self'")

    app.mount(STATIC, StaticFiles(directory=STATIC_DIR), name="docs-static")

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(HTMLResponse(swagger_html), swagger_policy)

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return _page(HTMLResponse(redirect_html), redirect_policy)

    @app.get(REDOC, include_in_schema=False)
    async def redoc_ui() -> HTMLResponse:
        return _page(HTMLResponse(redoc_html), redoc_policy)
