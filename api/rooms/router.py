"""The open directory: no token needed."""

from typing import Any

from fastapi import APIRouter

from api.deps import Admin, Connection
from api.params import Cursor, Limit, SlugPath
from api.rooms import service
from api.rooms.schemas import ActivityPage, PartnerPage, RoomPage, RoomPublic, RoomUpdate
from api.schemas import decode_cursor, page

router = APIRouter(tags=["directory"])


@router.get("/rooms", response_model=RoomPage, summary="The rooms and what they offer")
async def list_rooms(conn: Connection, limit: Limit = 50, cursor: Cursor = None) -> Any:
    after = decode_cursor(cursor, str)
    rows = await service.list_rooms(conn, limit=limit, after=after[0] if after else None)
    return page(rows, limit, key=lambda r: [r["slug"]])


@router.get("/rooms/{slug}", response_model=RoomPublic, summary="One room")
async def get_room(conn: Connection, slug: SlugPath) -> Any:
    return await service.get_room(conn, slug)


@router.patch(
    "/rooms/{slug}",
    response_model=RoomPublic,
    summary="Change a room's details (admins)",
    tags=["directory"],
)
async def update_room(conn: Connection, principal: Admin, slug: SlugPath, body: RoomUpdate) -> Any:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("opening_hours") is not None:
        changes["opening_hours"] = [dict(h) for h in changes["opening_hours"]]
    return await service.update_room(conn, principal, slug, changes)


@router.get("/activities", response_model=ActivityPage, summary="The eight main activities")
async def list_activities(conn: Connection, limit: Limit = 50, cursor: Cursor = None) -> Any:
    after = decode_cursor(cursor, int)
    rows = await service.list_activities(conn, limit=limit, after=after[0] if after else None)
    return page(rows, limit, key=lambda r: [r["position"]])


@router.get("/partners", response_model=PartnerPage, summary="The chain partners")
async def list_partners(conn: Connection, limit: Limit = 50, cursor: Cursor = None) -> Any:
    after = decode_cursor(cursor, str)
    rows = await service.list_partners(conn, limit=limit, after=after[0] if after else None)
    return page(rows, limit, key=lambda r: [r["code"]])
