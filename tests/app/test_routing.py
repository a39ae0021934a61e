"""The router's shortcut for paths without parameters (api.main.ExactPaths) picks the route
the router itself would pick, for every route's path and method, and leaves every other
request (a path with parameters, a wrong method, an unknown path) to the router."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from starlette.routing import Match

from api.main import ExactPaths, create_app


def _routers_pick(routes, method: str, path: str):
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def _shortcuts_pick(index: ExactPaths, method: str, path: str):
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in index.candidates.get(path, ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def test_the_shortcut_picks_the_route_the_router_picks(app_settings):
    app = create_app(app_settings)
    index = app.router.middleware_stack
    assert isinstance(index, ExactPaths)
    routes = app.router.routes
    paths = {re.sub(r"\{[^}]+\}", "x0", r.path) for r in routes if isinstance(r, APIRoute)}
    methods = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
    static = {r.path for r in routes if isinstance(r, APIRoute) and not r.param_convertors}
    assert "/api/v1/me" in static and "/api/v1/registrations" in static
    for path in paths | {"/api/v1/nothing", "/api/v1/me/"}:
        for method in methods:
            expected = _routers_pick(routes, method, path)
            if path in static:
                assert _shortcuts_pick(index, method, path) is expected, (method, path)
            else:
                assert path not in index.candidates  # the router itself decides


async def test_a_wrong_method_on_a_shortcut_path_still_gets_405(client, volunteer):
    answer = await client.delete("/me", headers=volunteer)
    assert answer.status_code == 405
    assert "GET" in answer.headers["allow"]
