"""Partner webhooks: registering a URL safely, and the worker that delivers the outbox.

Each event is POSTed as JSON with `X-BWK-Signature: t=<unix time>,v1=<hex>`, where v1 is
HMAC-SHA256 with the partner's secret over "<t>.<body>". Delivery is at least once; the
event id (`X-BWK-Delivery`) lets a receiver drop a repeat. A failed attempt is retried with
backoff (5 s, 10 s, 20 s ... at most an hour); every attempt is in the delivery log.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import socket
import time
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.audit.service import record
from api.base import table, utcnow
from api.caller import Principal
from api.errors import InvalidInput, NotFound
from api.rooms import service as rooms
from api.security import new_secret
from api.webhooks.models import Delivery, OutboxEvent, Webhook

_webhook: Table = table(Webhook)
_outbox: Table = table(OutboxEvent)
_delivery: Table = table(Delivery)
MAX_BACKOFF = timedelta(hours=1)


class UnsafeUrl(ValueError):
    pass


def check_url(url: str, *, allow_private: bool) -> str:
    """https to a public address only (demo mode may use http and loopback for testing)."""
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_private else ("https",)):
        raise UnsafeUrl("the URL must use https")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeUrl("the URL needs a host and no credentials")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        raise UnsafeUrl("the host does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise UnsafeUrl("the host resolves to a loopback, private or reserved address")
    return url


async def _partner_id(conn: AsyncConnection, code: str) -> int:
    found = await rooms.partner_id(conn, code)
    if found is None:
        raise NotFound(f"There is no partner '{code[:40]}'.")
    return int(found)


async def register(
    conn: AsyncConnection, principal: Principal, code: str, url: str, *, allow_private: bool
) -> dict[str, Any]:
    partner_id = await _partner_id(conn, code)
    try:
        check_url(url, allow_private=allow_private)
    except UnsafeUrl as exc:
        raise InvalidInput([("url", str(exc))]) from None
    secret, now = new_secret(32), utcnow()
    await conn.execute(delete(_webhook).where(_webhook.c.partner_id == partner_id))
    await conn.execute(
        insert(_webhook).values(partner_id=partner_id, url=url, secret=secret, created_at=now)
    )
    await record(
        conn, actor=principal, action="webhook.register", object_type="partner", object_id=code
    )
    return {"partner": code, "url": url, "secret": secret, "created_at": now}


async def show(conn: AsyncConnection, code: str) -> dict[str, Any]:
    partner_id = await _partner_id(conn, code)
    row = (await conn.execute(select(_webhook).where(_webhook.c.partner_id == partner_id))).first()
    if row is None:
        raise NotFound("This partner has no webhook.")
    return {"partner": code, "url": row.url, "created_at": row.created_at}


async def remove(conn: AsyncConnection, principal: Principal, code: str) -> None:
    partner_id = await _partner_id(conn, code)
    await conn.execute(delete(_webhook).where(_webhook.c.partner_id == partner_id))
    await record(
        conn, actor=principal, action="webhook.remove", object_type="partner", object_id=code
    )


async def deliveries(conn: AsyncConnection, code: str, limit: int) -> list[dict[str, Any]]:
    partner_id = await _partner_id(conn, code)
    rows = await conn.execute(
        select(
            _delivery.c.id,
            _delivery.c.event_id,
            _outbox.c.type,
            _delivery.c.at,
            _delivery.c.status_code,
            _delivery.c.error,
            _delivery.c.milliseconds,
            _outbox.c.delivered_at,
        )
        .join(_outbox, _outbox.c.id == _delivery.c.event_id)
        .where(_outbox.c.partner_id == partner_id)
        .order_by(_delivery.c.at.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


async def deliver_due(
    engine: AsyncEngine, client: httpx.AsyncClient, *, allow_private: bool, batch: int = 20
) -> int:
    """Deliver the events that are due; returns how many were attempted."""
    async with engine.begin() as conn:
        query = (
            select(
                _outbox.c.id,
                _outbox.c.payload,
                _outbox.c.type,
                _outbox.c.attempts,
                _webhook.c.url,
                _webhook.c.secret,
            )
            .join(_webhook, _webhook.c.partner_id == _outbox.c.partner_id, isouter=True)
            .where(_outbox.c.delivered_at.is_(None), _outbox.c.next_attempt_at <= utcnow())
            .order_by(_outbox.c.created_at)
            .limit(batch)
        )
        if conn.dialect.name == "postgresql":
            # replicas of the worker share the outbox without sending an event twice
            query = query.with_for_update(skip_locked=True, of=_outbox)
        due = list(await conn.execute(query))
        for event in due:
            await _attempt(conn, client, event, allow_private=allow_private)
    return len(due)


async def _attempt(
    conn: AsyncConnection, client: httpx.AsyncClient, event: Any, *, allow_private: bool
) -> None:
    now = utcnow()
    if event.url is None:  # the webhook was removed: nothing to deliver to
        await conn.execute(update(_outbox).where(_outbox.c.id == event.id).values(delivered_at=now))
        return
    body = json.dumps(event.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    started = time.perf_counter()
    status, error = None, None
    try:
        check_url(event.url, allow_private=allow_private)
        response = await client.post(
            event.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-BWK-Event": event.type,
                "X-BWK-Delivery": str(event.id),
                "X-BWK-Signature": sign(event.secret, timestamp, body),
            },
        )
        status = response.status_code
    except (httpx.HTTPError, UnsafeUrl) as exc:
        error = type(exc).__name__
    milliseconds = round((time.perf_counter() - started) * 1000)
    await conn.execute(
        insert(_delivery).values(
            id=uuid.uuid4(),
            event_id=event.id,
            at=now,
            status_code=status,
            error=error,
            milliseconds=milliseconds,
        )
    )
    if status is not None and 200 <= status < 300:
        await conn.execute(
            update(_outbox)
            .where(_outbox.c.id == event.id)
            .values(delivered_at=now, attempts=event.attempts + 1)
        )
    else:
        await conn.execute(
            update(_outbox)
            .where(_outbox.c.id == event.id)
            .values(attempts=event.attempts + 1, next_attempt_at=now + backoff(event.attempts + 1))
        )


async def run_worker(
    engine: AsyncEngine,
    *,
    allow_private: bool,
    interval: float = 1.0,
    once: bool = False,
    stop: asyncio.Event | None = None,
) -> None:
    async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
        while True:
            attempted = await deliver_due(engine, client, allow_private=allow_private)
            if once or (stop is not None and stop.is_set()):
                return
            if not attempted:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for((stop or asyncio.Event()).wait(), interval)
