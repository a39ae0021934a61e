"""Outcomes: a resident's measurements and volunteering (its rooms' staff). The outcome figures
and targets are served with the other figures, in api/indicators/router.py."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter

from api.deps import Connection, Coordinator, Staff
from api.outcomes import service
from api.outcomes.schemas import (
    AssessmentCreate,
    AssessmentPage,
    AssessmentPublic,
    VolunteeringCreate,
    VolunteeringPage,
    VolunteeringRecorded,
)
from api.params import Cursor, Limit
from api.schemas import decode_cursor, page

router = APIRouter(tags=["outcomes"])
RESTRICTED: dict[int | str, dict[str, Any]] = {
    409: {"description": "Processing of this resident is restricted (GDPR art. 18)"}
}


@router.get(
    "/residents/{resident_id}/assessments",
    response_model=AssessmentPage,
    tags=["residents"],
    summary="A resident's outcome measurements, oldest first",
)
async def list_assessments(
    conn: Connection, principal: Staff, resident_id: UUID, limit: Limit = 50, cursor: Cursor = None
) -> Any:
    after = decode_cursor(cursor, date, UUID)
    key = (after[0], after[1]) if after else None
    rows = await service.list_assessments(conn, principal, resident_id, limit=limit, after=key)
    return page(rows, limit, key=lambda r: [r["assessed_on"].isoformat(), str(r["id"])])


@router.post(
    "/residents/{resident_id}/assessments",
    response_model=AssessmentPublic,
    status_code=201,
    tags=["residents"],
    summary="Record a measurement: participation ladder (`rung`) or self-sufficiency matrix "
    "(`scores`)",
    responses=RESTRICTED,
)
async def record_assessment(
    conn: Connection, principal: Staff, resident_id: UUID, body: AssessmentCreate
) -> Any:
    return await service.record_assessment(conn, principal, resident_id, body.model_dump())


@router.get(
    "/residents/{resident_id}/volunteering",
    response_model=VolunteeringPage,
    tags=["residents"],
    summary="The rooms a resident volunteers for, and since when",
)
async def list_volunteering(conn: Connection, principal: Staff, resident_id: UUID) -> Any:
    items = await service.list_volunteering(conn, principal, resident_id)
    return {"items": items, "next_cursor": None}


@router.post(
    "/residents/{resident_id}/volunteering",
    response_model=VolunteeringRecorded,
    status_code=201,
    tags=["residents"],
    summary="Record that a resident became a volunteer of your room (coordinators)",
    responses={
        409: {"description": "Restricted, or already a volunteer of this room"},
    },
)
async def record_volunteering(
    conn: Connection, principal: Coordinator, resident_id: UUID, body: VolunteeringCreate
) -> Any:
    return await service.record_volunteering(conn, principal, resident_id, body.model_dump())
