"""GET /audit-events: who did or saw what, when, about whom (admins). Reading it is audited."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from api.audit import service
from api.audit.schemas import AuditEventPage
from api.deps import Admin, Connection
from api.params import Cursor, Limit
from api.schemas import decode_cursor, page

router = APIRouter(tags=["audit"])


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
    after = decode_cursor(cursor, datetime, UUID)
    rows = await service.list_events(
        conn,
        principal,
        limit=limit,
        after=(after[0], after[1]) if after else None,
        action=action,
        actor_id=actor_id,
        resident_id=resident_id,
        since=since,
        until=until,
    )
    return page(rows, limit, key=lambda r: [r["at"].isoformat(), str(r["id"])])
