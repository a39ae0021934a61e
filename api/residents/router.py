"""/residents: the people the desk helps (volunteers and coordinators of their rooms)."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import Connection, Staff
from api.idempotency.deps import IdempotencyKey
from api.params import Cursor, Limit
from api.residents import codes, service
from api.residents.lookup import CodeLimits
from api.residents.schemas import ResidentCreate, ResidentPage, ResidentPublic, ResidentUpdate
from api.schemas import decode_cursor, page

router = APIRouter(tags=["residents"])


@router.post(
    "/residents",
    response_model=ResidentPublic,
    status_code=201,
    summary="Register a resident (only `room` is needed)",
    responses={
        409: {"description": "A request with the same Idempotency-Key is still running"},
        422: {"description": "The Idempotency-Key was used for another body"},
    },
)
async def create_resident(
    idempotency: IdempotencyKey, conn: Connection, principal: Staff, body: ResidentCreate
) -> Any:
    data = body.model_dump()
    if replay := await idempotency.begin(
        principal, body.model_dump(mode="json"), object_type="resident"
    ):
        return replay
    created = await service.create_resident(conn, principal, data)
    return await idempotency.complete(conn, 201, ResidentPublic, created)


@router.get(
    "/residents",
    response_model=ResidentPage,
    summary="Residents your rooms serve",
    responses={
        422: {"description": "A character of the code is mistyped"},
        429: {"description": "Too many resident codes were not found (see Retry-After)"},
    },
)
async def list_residents(
    request: Request,
    conn: Connection,
    principal: Staff,
    limit: Limit = 50,
    cursor: Cursor = None,
    room: Annotated[str | None, Query(max_length=60)] = None,
    code: Annotated[
        str | None,
        Query(
            max_length=12,
            pattern=codes.PATTERN,
            description="A resident's code; each code your rooms do not serve counts as a miss",
        ),
    ] = None,
) -> Any:
    after = decode_cursor(cursor, str)
    rows = await service.list_residents(
        conn,
        principal,
        limit=limit,
        after=(after[0], "") if after else None,
        room=room,
        code=code,
        limits=CodeLimits.of(request.app.state.settings),
    )
    return page(rows, limit, key=lambda r: [r["code"]])


@router.get("/residents/{resident_id}", response_model=ResidentPublic, summary="One resident")
async def get_resident(conn: Connection, principal: Staff, resident_id: UUID) -> Any:
    return await service.get_resident(conn, principal, resident_id)


@router.patch(
    "/residents/{resident_id}", response_model=ResidentPublic, summary="Change a resident"
)
async def update_resident(
    conn: Connection, principal: Staff, resident_id: UUID, body: ResidentUpdate
) -> Any:
    return await service.update_resident(
        conn, principal, resident_id, body.model_dump(exclude_unset=True)
    )
