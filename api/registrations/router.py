"""/registrations: the help given, registered at the desk, corrected by coordinators."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Header, Query, Request, Response

from api.deps import Connection, Coordinator, Staff
from api.idempotency.deps import IdempotencyKey
from api.openapi import csv_body
from api.params import Cursor, Limit, RequiredSlugQuery, SlugQuery
from api.registrations import service
from api.registrations.importing import read_upload
from api.registrations.schemas import (
    RegistrationCreate,
    RegistrationPage,
    RegistrationPublic,
    RegistrationUpdate,
)
from api.residents.lookup import CodeLimits
from api.schemas import ApiModel, decode_cursor, encode_cursor


def wire_json(
    data: dict[str, Any], *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A body whose names are already the wire's (camelCase), straight to JSON bytes."""
    return Response(
        orjson.dumps(data, option=orjson.OPT_UTC_Z),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


router = APIRouter(tags=["registrations"])


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


@router.post(
    "/registrations",
    response_model=RegistrationPublic,
    status_code=201,
    summary="Register help given: to a resident (by id, code or as a new one) or a group",
    responses={
        409: {
            "description": "A request with the same Idempotency-Key is still running, or the "
            "resident's processing is restricted"
        },
        422: {
            "description": "The Idempotency-Key was used for another body, or a character "
            "of the resident code is mistyped"
        },
        429: {"description": "Too many resident codes were not found (see Retry-After)"},
    },
)
async def create_registration(
    request: Request,
    idempotency: IdempotencyKey,
    conn: Connection,
    principal: Staff,
    body: RegistrationCreate,
) -> Any:
    if idempotency.key is not None and (
        replay := await idempotency.begin(
            principal, body.model_dump(mode="json"), object_type="registration"
        )
    ):
        return replay
    limits = CodeLimits.of(request.app.state.settings)
    created = await service.create_registration(conn, principal, body, limits)
    await idempotency.complete(conn, 201, RegistrationPublic, created)
    # the service gives exactly RegistrationPublic's fields: sent without validating again
    return wire_json(
        created,
        status_code=201,
        headers={
            **_etag(created["version"]),
            "Location": f"/api/v1/registrations/{created['id']}",
        },
    )


@router.get(
    "/registrations", response_model=RegistrationPage, summary="Help registered at your rooms"
)
async def list_registrations(
    conn: Connection,
    principal: Staff,
    limit: Limit = 50,
    cursor: Cursor = None,
    room: SlugQuery = None,
    activity: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[date | None, Query(alias="from", description="From this day")] = None,
    until: Annotated[date | None, Query(alias="to", description="Up to this day")] = None,
    resident_id: Annotated[UUID | None, Query(alias="residentId")] = None,
    include_voided: Annotated[bool, Query(alias="includeVoided")] = False,
) -> Any:
    after = decode_cursor(cursor, date, UUID)
    position = (after[0], after[1]) if after else None
    rows = await service.list_registrations(
        conn,
        principal,
        limit=limit,
        after=position,
        room=room,
        activity=activity,
        since=since,
        until=until,
        resident_id=resident_id,
        include_voided=include_voided,
    )
    items = rows[:limit]
    last = items[-1] if len(rows) > limit else None
    cursor_out = encode_cursor([last["occurredOn"].isoformat(), str(last["id"])]) if last else None
    return wire_json({"items": items, "nextCursor": cursor_out})


@router.get(
    "/registrations/{registration_id}",
    response_model=RegistrationPublic,
    summary="One registration (its ETag is for corrections)",
)
async def get_registration(
    conn: Connection, principal: Staff, registration_id: UUID, response: Response
) -> Any:
    found = await service.get_registration(conn, principal, registration_id)
    response.headers.update(_etag(found["version"]))
    return found


@router.patch(
    "/registrations/{registration_id}",
    response_model=RegistrationPublic,
    summary="Correct or void a registration, with a reason (coordinators; needs If-Match)",
    responses={
        409: {"description": "The registration is voided"},
        412: {"description": "Changed since you read it"},
        428: {"description": "If-Match is missing"},
    },
)
async def correct_registration(
    conn: Connection,
    principal: Coordinator,
    registration_id: UUID,
    body: RegistrationUpdate,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match", max_length=100)] = None,
) -> Any:
    corrected = await service.correct_registration(
        conn, principal, registration_id, if_match, body.model_dump(exclude_unset=True)
    )
    response.headers.update(_etag(corrected["version"]))
    return corrected


class ImportResult(ApiModel):
    registrations: int
    residents_created: int


@router.post(
    "/registrations/import",
    response_model=ImportResult,
    status_code=201,
    summary="Import a room's list (CSV); all rows or none, every bad row reported",
    responses={
        409: {"description": "A resident on the list is restricted (the line is named)"},
        422: {"description": "The list holds unknown resident codes (which is not said)"},
        429: {"description": "Too many resident codes were not found (see Retry-After)"},
    },
    openapi_extra=csv_body(),
)
async def import_registrations(
    request: Request,
    conn: Connection,
    principal: Coordinator,
    room: RequiredSlugQuery,
) -> Any:
    rows = read_upload(await request.body())
    limits = CodeLimits.of(request.app.state.settings)
    return await service.import_registrations(conn, principal, room, rows, limits)
