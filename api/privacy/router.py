"""The residents' rights: export (access), erasure, restriction. Coordinators act for them."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from api.deps import Connection, Coordinator
from api.privacy import service
from api.privacy.schemas import ResidentExport, Restriction, RestrictionState

router = APIRouter(tags=["residents"])


@router.get(
    "/residents/{resident_id}/export",
    response_model=ResidentExport,
    summary="Everything kept about one resident, and who looked at it (GDPR art. 15; the home "
    "room's coordinators)",
)
async def export(conn: Connection, principal: Coordinator, resident_id: UUID) -> Any:
    return await service.export(conn, principal, resident_id)


@router.delete(
    "/residents/{resident_id}",
    status_code=204,
    summary="Erase a resident: the person goes, the figures stay (GDPR art. 17; the home room's "
    "coordinators)",
)
async def erase(conn: Connection, principal: Coordinator, resident_id: UUID) -> Response:
    await service.erase_resident(conn, principal, resident_id)
    return Response(status_code=204)


@router.put(
    "/residents/{resident_id}/restriction",
    response_model=RestrictionState,
    summary="Restrict or resume processing of a resident (GDPR art. 18; the home room's "
    "coordinators)",
)
async def restrict(
    conn: Connection, principal: Coordinator, resident_id: UUID, body: Restriction
) -> Any:
    return await service.restrict(conn, principal, resident_id, body.restricted)
