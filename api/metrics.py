"""Prometheus metrics: requests, latency, the database pool, sign-in failures, the outbox.

`GET /api/v1/metrics` answers in Prometheus' text format to the addresses in
BWK_METRICS_ALLOW (loopback by default); anyone else gets the same 404 as an unknown path.

Several worker processes (`bwk serve --workers N`) share their figures through the
library's multi-process mode: `prepare_multiprocess_dir` sets PROMETHEUS_MULTIPROC_DIR
before the workers start, each worker writes its values to files there and a scrape,
whichever worker answers it, adds them up. The outbox figures live in the database and
are read at scrape time, so they are right across replicas too.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_address
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Table, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.base import table, utcnow
from api.instruments import LATENCY, REQUESTS
from api.openapi import PREFIX
from api.problems import problem_response
from api.webhooks.models import OutboxEvent

log = structlog.get_logger("api.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"  # a path no route serves: never the raw path (unbounded labels)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# the text format every Prometheus reads (our names need none of 1.0.0's escaping)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# -- requests ----------------------------------------------------------------------------


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template. Pure ASGI and outermost,
    so it also sees the 413s and 500s the request-context middleware answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # labels() takes a lock and builds a key each time: keep the children per label set
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if nothing is sent

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")  # set by the router on a match
            # the template below the API's prefix, as the routers write it ("/rooms")
            template = getattr(route, "path_format", None) or UNMATCHED
            method = scope["method"] if scope["method"] in _METHODS else "other"
            key = (method, template, status)
            children = self._children.get(key)
            if children is None:
                template = template.removeprefix(PREFIX)
                children = (
                    REQUESTS.labels(method, template, str(status)),
                    LATENCY.labels(method, template),
                )
                self._children[key] = children
            children[0].inc()
            children[1].observe(time.perf_counter() - started)


# -- the endpoint ------------------------------------------------------------------------

router = APIRouter(tags=["health"])
_outbox: Table = table(OutboxEvent)
# the same answer as a path no route serves: a denied scraper learns nothing
_HIDDEN = "There is nothing at this address."


@router.get(
    "/metrics",
    summary="Metrics in Prometheus' text format (addresses in BWK_METRICS_ALLOW only)",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        404: {"description": "Not found: the caller's address may not read the metrics"},
    },
)
async def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    host = request.client.host if request.client else None
    if not allowed(host, settings.metrics_allow):
        return problem_response(404, _HIDDEN)
    snapshot = await _database_snapshot(request.app.state.engine)
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        _forget_dead_workers(directory)
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ProcessRegistry())
    registry.register(_Snapshot(snapshot))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)


def allowed(host: str | None, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    if not host:
        return False
    try:
        address = ip_address(host)
    except ValueError:  # a unix socket or a test client's name
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


async def _database_snapshot(engine: AsyncEngine) -> dict[str, float]:
    """The webhook outbox as the database has it (the same for every replica)."""
    if getattr(engine.pool, "exhausted", False):
        # every connection is busy: answer now with this process's figures rather than
        # queue behind the requests (and past the scrape's timeout)
        return {}
    pending = _outbox.c.delivered_at.is_(None)
    try:
        async with engine.connect() as conn:
            backlog = (await conn.execute(select(func.count()).where(pending))).scalar_one()
            oldest: datetime | None = (
                await conn.execute(
                    select(_outbox.c.created_at)
                    .where(pending)
                    .order_by(_outbox.c.created_at)
                    .limit(1)
                )
            ).scalar()
    except (SQLAlchemyError, OSError) as exc:
        log.warning("metrics_database_unavailable", error=type(exc).__name__)
        return {"up": 0.0}
    age = max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0
    return {"up": 1.0, "backlog": float(backlog), "oldest": age}


class _ProcessRegistry(Collector):
    """One process: the library's own registry (our families, process and GC figures)."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


class _Snapshot(Collector):
    def __init__(self, snapshot: dict[str, float]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[GaugeMetricFamily]:
        if "up" in self.snapshot:
            yield GaugeMetricFamily(
                "bwk_database_up", "1 if the database answered this scrape.", self.snapshot["up"]
            )
        if "backlog" in self.snapshot:
            yield GaugeMetricFamily(
                "bwk_webhook_outbox_backlog",
                "Webhook events not yet delivered.",
                self.snapshot["backlog"],
            )
            yield GaugeMetricFamily(
                "bwk_webhook_outbox_oldest_age_seconds",
                "Age of the oldest webhook event not yet delivered (0 when none waits).",
                self.snapshot["oldest"],
            )


# -- several workers ---------------------------------------------------------------------

_LIVE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")


def prepare_multiprocess_dir() -> Path:
    """Before workers start: an empty directory in PROMETHEUS_MULTIPROC_DIR (a fresh
    temporary one, removed at exit, unless the operator named one)."""
    named = os.environ.get(MULTIPROC_ENV)
    if named:
        path = Path(named)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # figures of an earlier run would be added in
            stale.unlink()
        return path
    path = Path(tempfile.mkdtemp(prefix="bwk-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _forget_dead_workers(directory: str) -> None:
    """A worker that died (and was replaced) no longer holds connections: drop its
    live gauges. Its counters stay: what it answered still counts."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        found = _LIVE_FILE.match(name)
        if found and not _alive(int(found.group(1))):
            multiprocess.mark_process_dead(int(found.group(1)), directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
