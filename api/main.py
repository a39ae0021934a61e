"""create_app(settings): routers, error handlers, middleware; nothing else."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import docs, health, metrics, openapi, problems
from api.accounts.router import router as accounts_router
from api.audit.router import router as audit_router
from api.auth.router import router as auth_router
from api.auth.service import Auth
from api.budgets.router import router as budgets_router
from api.consents.router import router as consents_router
from api.db import make_engine
from api.indicators.router import router as indicators_router
from api.instruments import WORKERS
from api.logging import configure as configure_logging
from api.middleware import RequestContextMiddleware
from api.outcomes.router import router as outcomes_router
from api.privacy.router import router as privacy_router
from api.public.router import router as public_router
from api.referrals.router import router as referrals_router
from api.registrations.router import router as registrations_router
from api.reports.router import router as reports_router
from api.residents.router import router as residents_router
from api.rooms.router import router as rooms_router
from api.security import Passwords, TokenCodec
from api.settings import Settings, get_settings
from api.webhooks.router import router as webhooks_router

PREFIX = openapi.PREFIX
# the collector's thresholds: Python's are (700, 10, 10); a request makes thousands of objects
GC_THRESHOLDS = (50_000, 10, 10)
# every router, included in this order
ROUTERS = (
    rooms_router,
    auth_router,
    residents_router,
    privacy_router,
    registrations_router,
    indicators_router,
    budgets_router,
    outcomes_router,
    referrals_router,
    consents_router,
    public_router,
    reports_router,
    webhooks_router,
    accounts_router,
    audit_router,
    health.router,
    metrics.router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        app.state.engine = engine
        if not settings.is_demo:
            await _refuse_demo_accounts(engine, app.state.auth.passwords)
        WORKERS.set(1)
        thresholds = gc.get_threshold()
        if settings.gc_tuning:
            # what was made to start the app lives as long as the process: out of the
            # collector's sight; and fewer collections of the young (README, "Measured")
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        try:
            yield
        finally:
            if settings.gc_tuning:  # as it was, for whatever runs after in this process
                gc.set_threshold(*thresholds)
                gc.unfreeze()
            WORKERS.set(0)
            await engine.dispose()

    app = FastAPI(
        title="Buurtwerkkamers API",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # api/docs.py serves both pages from files installed with us
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=docs.OAUTH2_REDIRECT,
        generate_unique_id_function=openapi.operation_id,
        lifespan=lifespan,
        redirect_slashes=False,
        # FastAPI's own OpenTelemetry: we configure none, and with it on FastAPI asks
        # OpenTelemetry for its providers (reading the environment) on every request
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.tokens = TokenCodec(settings)
    app.state.auth = Auth(settings, app.state.tokens, Passwords(settings))
    problems.install(app)
    for router in ROUTERS:
        _add_routes(app, router)
    docs.install(app)

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.build(app, settings)
        return app.openapi_schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    _add_middleware(app, settings)
    # the shortcut applies no router-wide form limits and no middleware of the router's
    if not app.router.form_limits and app.router.middleware_stack == app.router.app:
        app.router.middleware_stack = ExactPaths(app.router)
    return app


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Each route of router on the app's own router at PREFIX, as older FastAPI's
    include_router did. In 0.165 it keeps a router as one route that re-derives the effective
    settings of its routes on every request, walking every router included (a tenth of the
    CPU of GET /me); flat routes are matched by their path alone. The OpenAPI document came
    out the same to the byte (compared before and after the change)."""
    if router.max_body_size is not None or router.form_limits:
        raise TypeError("a router's own body or form limits are not carried over: set none")
    for route in router.routes:
        if type(route) is not APIRoute or route.stream_item_field is not None:
            # a route class of its own, or a streamed answer: settings not carried over
            raise TypeError(f"{route!r}: only plain FastAPI routes are added flat")
        app.router.add_api_route(
            PREFIX + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
        )


class ExactPaths:
    """The app's router with a shortcut for a request to a path that a route names without
    parameters (/me, /registrations): only the routes whose pattern matches that path are
    tried, in the router's order, rather than each of the 68 in turn (a route's try costs
    2-3 µs; GET /me is the 9th, the registrations the 18th and 19th). The router's rules
    hold: an earlier route with parameters that matches the path still comes first. Any
    other request, and one that none of these serves in full (405), goes through the router
    itself (tests/app/test_routing.py)."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.fallback: ASGIApp = router.middleware_stack
        self.candidates: dict[str, tuple[BaseRoute, ...]] = {}
        for route in router.routes:
            if isinstance(route, APIRoute) and not route.param_convertors:
                self.candidates.setdefault(
                    route.path, tuple(r for r in router.routes if _may_match(r, route.path))
                )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            for route in self.candidates.get(scope["path"], ()):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self.router)
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self.fallback(scope, receive, send)


def _may_match(route: BaseRoute, path: str) -> bool:
    """Whether the route may serve a request for path (a route of another kind: always)."""
    pattern = getattr(route, "path_regex", None)
    return pattern is None or pattern.match(path) is not None


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """The middleware, innermost first (each added wraps the ones before it)."""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
            expose_headers=["API-Version", "ETag", "X-Request-ID", "Retry-After"],
        )
    if settings.forwarded_allow_ips:
        # the one rule for the client's address, whichever server runs the app: forwarded
        # headers count only from these proxies (`bwk serve` leaves them to us)
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_import_bytes=settings.max_import_bytes,
        max_header_bytes=settings.max_header_bytes,
        hsts=not settings.is_demo,
    )
    app.add_middleware(metrics.MetricsMiddleware)  # outermost: it sees every answer


async def _refuse_demo_accounts(engine: AsyncEngine, passwords: Passwords) -> None:
    from api.seed import demo_accounts_present

    async with engine.connect() as conn:
        found = await conn.run_sync(demo_accounts_present, passwords)
    if found:
        await engine.dispose()
        raise RuntimeError(
            "refusing to start in production: demo accounts with published passwords exist "
            f"({', '.join(sorted(found))}); deactivate or re-key them first"
        )


app: FastAPI  # made on first access by __getattr__ below


def __getattr__(name: str) -> Any:
    # `api.main:app` is built on first use, so importing this module has no side effects
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
