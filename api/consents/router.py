"""/residents/{id}/consents: what a resident lets a partner know."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from api.consents import service
from api.consents.schemas import ConsentCreate, ConsentPage, ConsentPublic
from api.deps import Connection, Staff

router = APIRouter(tags=["referrals"])


@router.get(
    "/residents/{resident_id}/consents",
    response_model=ConsentPage,
    summary="A resident's consents to share with partners",
)
async def list_consents(conn: Connection, principal: Staff, resident_id: UUID) -> Any:
    items = await service.list_consents(conn, principal, resident_id)
    return {"items": items, "next_cursor": None}


@router.post(
    "/residents/{resident_id}/consents",
    response_model=ConsentPublic,
    status_code=201,
    summary="Record a resident's consent to let a partner know who is referred",
)
async def give_consent(
    conn: Connection, principal: Staff, resident_id: UUID, body: ConsentCreate
) -> Any:
    return await service.give_consent(conn, principal, resident_id, body)


@router.delete(
    "/residents/{resident_id}/consents/{consent_id}",
    status_code=204,
    summary="Withdraw a consent: the partner stops seeing who the person is, at once",
)
async def withdraw_consent(
    conn: Connection, principal: Staff, resident_id: UUID, consent_id: UUID
) -> Response:
    await service.withdraw_consent(conn, principal, resident_id, consent_id)
    return Response(status_code=204)
