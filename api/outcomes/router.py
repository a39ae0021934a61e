"""Outcomes: a resident's measurements and volunteering (its rooms' staff), the outcome figures
and the outcome targets (the district, and the rooms for their own)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request

from api.calendar import period
from api.deps import Connection, Coordinator, Staff
from api.errors import InvalidInput
from api.indicators import export, targets
from api.indicators.router import District, Readers
from api.openapi import csv_answer
from api.outcomes import figures, service
from api.outcomes.schemas import (
    AssessmentCreate,
    AssessmentPage,
    AssessmentPublic,
    Outcomes,
    OutcomeTargetPage,
    OutcomeTargetSet,
    VolunteeringCreate,
    VolunteeringPage,
    VolunteeringRecorded,
)
from api.params import CsvFormat, Cursor, Limit, Rooms, Year
from api.responses import csv_response, wants_csv
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
    after = decode_cursor(cursor, str, str)
    try:
        key = (date.fromisoformat(after[0]), UUID(after[1])) if after else None
    except ValueError:
        raise InvalidInput([("cursor", "not a cursor this list gave out")]) from None
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


@router.get(
    "/indicators/outcomes",
    response_model=Outcomes,
    tags=["indicators"],
    summary="Movement between first and latest measurement in a year, quarter or month; "
    "new volunteers; targets pro rata",
    responses=csv_answer(),
)
async def outcomes(
    request: Request,
    conn: Connection,
    principal: Readers,
    year: Year,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    room: Rooms = [],  # noqa: B006 - FastAPI copies defaults
    format_: CsvFormat = None,
) -> Any:
    data = await figures.outcome_figures(conn, principal, period(year, quarter, month), room)
    if wants_csv(request, format_):
        name = export.period_name("uitkomsten", year, quarter, month)
        return csv_response(
            export.render(figures.OUTCOMES_HEADER, figures.outcome_rows(data)), name
        )
    return data


@router.get(
    "/outcome-targets",
    response_model=OutcomeTargetPage,
    tags=["indicators"],
    summary="Outcome agreements: residents moving up a ladder or the matrix, new volunteers",
)
async def list_outcome_targets(
    conn: Connection,
    principal: Readers,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    room: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    return await targets.agreements_page(
        conn,
        principal,
        service.OUTCOME_TARGETS,
        year=year,
        room=room,
        limit=limit,
        cursor=cursor,
    )


@router.put(
    "/outcome-targets/{year}",
    response_model=OutcomeTargetPage,
    tags=["indicators"],
    summary="Set a year's outcome agreements; the year becomes exactly these",
)
async def replace_outcome_targets(
    conn: Connection,
    principal: District,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: OutcomeTargetSet,
) -> Any:
    items = [i.model_dump() for i in body.items]
    await service.replace_outcome_targets(conn, principal, year, items)
    return await targets.agreements_page(conn, principal, service.OUTCOME_TARGETS, year=year)
