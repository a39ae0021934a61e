"""Admins register a partner's webhook; the delivery log shows what happened."""

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import Field

from api.deps import Admin, Connection
from api.params import CodePath
from api.schemas import ApiModel, InputModel
from api.webhooks import service

router = APIRouter(tags=["webhooks"])


class WebhookSet(InputModel):
    url: str = Field(max_length=500, examples=["https://crm.madi.example/bwk-events"])


class WebhookPublic(ApiModel):
    partner: str
    url: str
    created_at: datetime


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="The HMAC-SHA256 key: shown this once, never again")


class DeliveryPublic(ApiModel):
    id: UUID
    event_id: UUID
    type: str
    at: datetime
    status_code: int | None
    error: str | None
    milliseconds: int
    delivered_at: datetime | None


class DeliveryLog(ApiModel):
    items: list[DeliveryPublic]
    next_cursor: str | None = None


def _allow_private(request: Request) -> bool:
    return bool(request.app.state.settings.is_demo)


@router.put(
    "/partners/{code}/webhook",
    response_model=WebhookCreated,
    summary="Send this partner's referral events to a URL (https, public addresses only)",
)
async def register(
    request: Request, conn: Connection, principal: Admin, code: CodePath, body: WebhookSet
) -> Any:
    return await service.register(
        conn, principal, code, body.url, allow_private=_allow_private(request)
    )


@router.get("/partners/{code}/webhook", response_model=WebhookPublic, summary="The webhook")
async def show(conn: Connection, _principal: Admin, code: CodePath) -> Any:
    return await service.show(conn, code)


@router.delete("/partners/{code}/webhook", status_code=204, summary="Stop sending events")
async def remove(conn: Connection, principal: Admin, code: CodePath) -> Response:
    await service.remove(conn, principal, code)
    return Response(status_code=204)


@router.get(
    "/partners/{code}/webhook/deliveries",
    response_model=DeliveryLog,
    summary="The delivery log: the latest 200 attempts",
)
async def deliveries(conn: Connection, _principal: Admin, code: CodePath) -> Any:
    return {"items": await service.deliveries(conn, code, 200)}
