"""/referrals and /residents/{id}/consents (the figures: /indicators/referrals, in indicators)."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from api.deps import Connection, Parties, Staff, referral_overdue_days
from api.idempotency.deps import IdempotencyKey
from api.params import Cursor, Limit, SlugQuery
from api.referrals import service
from api.referrals.schemas import (
    ConsentCreate,
    ConsentPage,
    ConsentPublic,
    ReferralCreate,
    ReferralPage,
    ReferralPublic,
    Status,
    Transition,
)
from api.schemas import decode_cursor, page

router = APIRouter(tags=["referrals"])


@router.post(
    "/referrals",
    response_model=ReferralPublic,
    status_code=201,
    summary="Refer: a room's staff refer a resident out; a partner refers someone in",
    responses={
        409: {"description": "A request with the same Idempotency-Key is still running"},
        422: {"description": "The Idempotency-Key was used for another body"},
    },
)
async def create(
    idempotency: IdempotencyKey,
    request: Request,
    conn: Connection,
    principal: Parties,
    body: ReferralCreate,
) -> Any:
    if replay := await idempotency.begin(
        principal, body.model_dump(mode="json"), object_type="referral"
    ):
        return replay
    created = await service.create(
        conn, principal, body.model_dump(), referral_overdue_days(request)
    )
    return await idempotency.complete(conn, 201, ReferralPublic, created)


@router.get("/referrals", response_model=ReferralPage, summary="Referrals you sent or received")
async def list_referrals(
    request: Request,
    conn: Connection,
    principal: Parties,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[Status | None, Query()] = None,
    direction: Annotated[Literal["outgoing", "incoming"] | None, Query()] = None,
    room: SlugQuery = None,
    partner: SlugQuery = None,
    overdue: Annotated[bool | None, Query(description="Waiting too long in sent/accepted")] = None,
) -> Any:
    after = decode_cursor(cursor, datetime, UUID)
    position = (after[0], after[1]) if after else None
    rows = await service.list_referrals(
        conn,
        principal,
        limit=limit,
        after=position,
        status=status,
        direction=direction,
        room=room,
        partner=partner,
        overdue=overdue,
        overdue_days=referral_overdue_days(request),
    )
    return page(rows, limit, key=lambda r: [r["created_at"].isoformat(), str(r["id"])])


@router.get("/referrals/{referral_id}", response_model=ReferralPublic, summary="One referral")
async def get(request: Request, conn: Connection, principal: Parties, referral_id: UUID) -> Any:
    return await service.get(conn, principal, referral_id, referral_overdue_days(request))


@router.post(
    "/referrals/{referral_id}/transitions",
    response_model=ReferralPublic,
    summary="Move a referral: accept, decline, complete, no_show (receiver); withdraw (sender)",
    responses={409: {"description": "The lifecycle does not allow this move"}},
)
async def transition(
    request: Request, conn: Connection, principal: Parties, referral_id: UUID, body: Transition
) -> Any:
    return await service.move(
        conn, principal, referral_id, body.model_dump(), referral_overdue_days(request)
    )


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
    return await service.give_consent(conn, principal, resident_id, body.model_dump())


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
