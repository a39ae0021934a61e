"""GET /audit-events: who did or saw what, when, about whom (admins). Reading it is audited."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime
from sqlalchemy import Table, select, tuple_

from api.audit.models import AuditEvent
from api.audit.schemas import AuditEventPage
from api.audit.service import record
from api.base import table
from api.deps import Admin, Connection
from api.errors import InvalidInput
from api.params import Cursor, Limit
from api.schemas import decode_cursor, page

router = APIRouter(tags=["audit"])
_event: Table = table(AuditEvent)
_COLUMNS = [c for c in _event.c if c.name != "address"]


@router.get("/audit-events", response_model=AuditEventPage, summary="The audit trail")
async def list_events(
    conn: Connection,
    principal: Admin,
    limit: Limit = 50,
    cursor: Cursor = None,
    action: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z_.]+$")] = None,
    actor_id: Annotated[UUID | None, Query(alias="actorId")] = None,
    resident_id: Annotated[UUID | None, Query(alias="residentId")] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="From this moment (inclusive), with zone")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Before this moment, with zone")
    ] = None,
) -> Any:
    after = decode_cursor(cursor, str, str)
    query = select(*_COLUMNS).order_by(_event.c.at.desc(), _event.c.id.desc()).limit(limit + 1)
    if after is not None:
        try:
            at, event_id = datetime.fromisoformat(after[0]), UUID(after[1])
        except ValueError:
            raise InvalidInput([("cursor", "not a cursor this list gave out")]) from None
        query = query.where(tuple_(_event.c.at, _event.c.id) < tuple_(at, event_id))
    if action is not None:
        query = query.where(_event.c.action == action)
    if actor_id is not None:
        query = query.where(_event.c.actor_id == actor_id)
    if resident_id is not None:
        query = query.where(_event.c.resident_id == resident_id)
    if since is not None:
        query = query.where(_event.c.at >= since)
    if until is not None:
        query = query.where(_event.c.at < until)
    rows = [dict(r._mapping) for r in await conn.execute(query)]
    await record(
        conn,
        actor=principal,
        action="audit.read",
        object_type="audit_event",
        details={"count": min(len(rows), limit)},
    )
    return page(rows, limit, key=lambda r: [r["at"].isoformat(), str(r["id"])])
