"""/referrals (consents: api/consents; the figures: /indicators/referrals, in indicators)."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import Connection, Parties, referral_overdue_days
from api.idempotency.deps import IdempotencyKey
from api.params import Cursor, Limit, SlugQuery
from api.referrals import service
from api.referrals.schemas import (
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
    created = await service.create(conn, principal, body, referral_overdue_days(request))
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
    return await service.move(conn, principal, referral_id, body, referral_overdue_days(request))
