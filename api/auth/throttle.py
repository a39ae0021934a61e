"""The throttle on guessing: failed sign-ins and password checks, counted per name and per
address in a sliding window (resident codes count here too, see residents/lookup.py)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import audit_event, event_row
from api.auth.models import LoginFailure
from api.base import table, utcnow
from api.db import Writes, write
from api.instruments import SIGN_IN_FAILURES
from api.settings import Settings

_failure: Table = table(LoginFailure)


async def serialise_attempts(conn: AsyncConnection, name: str) -> None:
    """Sign-ins for one name take turns (PostgreSQL), so concurrent guesses cannot all be
    checked before the first failure is counted. The lock ends with the transaction."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


async def failures_in_window(
    conn: AsyncConnection,
    failures: ColumnElement[bool],
    limit: int,
    window_seconds: int,
    now: datetime,
) -> tuple[int, int | None]:
    """How many failures are in the window, and the seconds until the oldest leaves it when
    there are `limit` or more (else None)."""
    count, oldest = (
        await conn.execute(
            select(func.count(), func.min(_failure.c.at)).where(
                failures, _failure.c.at > now - timedelta(seconds=window_seconds)
            )
        )
    ).one()
    if count < limit:
        return count, None
    if oldest.tzinfo is None:  # SQLite aggregates lose the column type
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=now.tzinfo)
    return count, max(1, int(window_seconds - (now - oldest).total_seconds()) + 1)


async def throttled(
    conn: AsyncConnection, settings: Settings, name: str, address: str, now: datetime
) -> int | None:
    """Seconds to wait when this name or address failed too often in the window, else None.
    Names are namespaced: 'user:anna', 'client:madi' (and 'code:<account id>', see
    residents/lookup.py)."""
    window = settings.login_window_seconds
    limits = (
        (_failure.c.username == name, settings.login_max_failures),
        (_failure.c.address == address, settings.login_max_failures_per_address),
    )
    for condition, limit in limits:
        _count, wait = await failures_in_window(conn, condition, limit, window, now)
        if wait is not None:
            return wait
    return None


def failure_writes(name: str, address: str, actor_id: uuid.UUID | None, kind: str) -> Writes:
    """A failed sign-in or password check: the row the throttle counts and its audit event."""
    SIGN_IN_FAILURES.labels(kind).inc()
    event = event_row(
        actor=None,
        actor_id=actor_id,
        action="auth.sign_in_failed",
        object_type=kind,
        object_id=actor_id,
        address=address,
    )
    return [
        (_failure, [{"username": name, "address": address, "at": utcnow()}]),
        (audit_event, [event]),
    ]


async def fail(
    conn: AsyncConnection, name: str, address: str, actor_id: uuid.UUID | None, kind: str
) -> None:
    await write(conn, failure_writes(name, address, actor_id, kind))
