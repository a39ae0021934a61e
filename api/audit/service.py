"""Writing to the audit trail and reading it. Callers pass ids; this module never takes names or
notes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import Table, bindparam, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.models import AuditEvent
from api.base import table, utcnow
from api.db import Prepared

if TYPE_CHECKING:
    from api.caller import Principal

audit_event: Table = table(AuditEvent)
# every column a bind parameter of its own name: built and compiled once
_INSERT = Prepared(
    insert(audit_event).values({c.name: bindparam(c.name, type_=c.type) for c in audit_event.c}),
    json=("details",),
)


# an event's details: a JSON object of counts, ids and field names, never names or notes
Details = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a list of them (record_many), named as event_row names its parts."""

    actor: Principal | None
    action: str
    object_type: str | None = None
    object_id: str | uuid.UUID | int | None = None
    resident_id: uuid.UUID | None = None


def event_row(
    *,
    actor: Principal | None,
    action: str,
    object_type: str | None = None,
    object_id: str | uuid.UUID | int | None = None,
    resident_id: uuid.UUID | None = None,
    address: str | None = None,
    details: Details | None = None,
    actor_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "at": utcnow(),
        "actor_kind": actor.kind if actor else "anonymous",
        "actor_id": actor.id if actor else actor_id,
        "actor_role": actor.role if actor else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id) if object_id is not None else None,
        "resident_id": resident_id,
        "request_id": structlog.contextvars.get_contextvars().get("request_id"),
        "address": address,
        "details": dict(details) if details else {},
    }


async def record(conn: AsyncConnection, **event: Any) -> None:
    """Append one event in the caller's transaction: it commits or fails with the change."""
    await _INSERT.run(conn, event_row(**event))


async def record_many(conn: AsyncConnection, events: Sequence[Event]) -> None:
    """Append several events in one statement (a list of residents, an import)."""
    if events:
        await _INSERT.run_many(
            conn,
            [
                event_row(
                    actor=e.actor,
                    action=e.action,
                    object_type=e.object_type,
                    object_id=e.object_id,
                    resident_id=e.resident_id,
                )
                for e in events
            ],
        )


_COLUMNS = [c for c in audit_event.c if c.name != "address"]


async def list_events(
    conn: AsyncConnection,
    principal: Principal,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
    action: str | None = None,
    actor_id: uuid.UUID | None = None,
    resident_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """The audit trail, newest first: up to limit + 1 events (the extra one means 'more').
    Reading it is itself on the record."""
    query = (
        select(*_COLUMNS)
        .order_by(audit_event.c.at.desc(), audit_event.c.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(audit_event.c.at, audit_event.c.id) < tuple_(*after))
    if action is not None:
        query = query.where(audit_event.c.action == action)
    if actor_id is not None:
        query = query.where(audit_event.c.actor_id == actor_id)
    if resident_id is not None:
        query = query.where(audit_event.c.resident_id == resident_id)
    if since is not None:
        query = query.where(audit_event.c.at >= since)
    if until is not None:
        query = query.where(audit_event.c.at < until)
    rows = [dict(r._mapping) for r in await conn.execute(query)]
    await record(
        conn,
        actor=principal,
        action="audit.read",
        object_type="audit_event",
        details={"count": min(len(rows), limit)},
    )
    return rows
