"""Reading the open directory. Core statements, rows straight to the response."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import record
from api.base import table
from api.caller import Principal
from api.errors import InvalidInput, NotFound
from api.rooms.models import Activity, Partner, Room, RoomActivity
from api.rooms.schemas import RoomUpdate

_room = table(Room).c
_activity = table(Activity).c
_partner = table(Partner).c
_room_activity = table(RoomActivity).c

_ROOM_COLUMNS = (
    _room.id,
    _room.slug,
    _room.name,
    _room.neighbourhood,
    _room.address,
    _room.postcode,
    _room.opened_on,
    _room.subsidy,
    _room.languages,
    _room.opening_hours,
)


async def _with_activities(conn: AsyncConnection, rows: list[Any]) -> list[dict[str, Any]]:
    if not rows:
        return []
    offered: dict[int, list[str]] = defaultdict(list)
    result = await conn.execute(
        select(_room_activity.room_id, _activity.code)
        .join_from(RoomActivity, Activity, _room_activity.activity_id == _activity.id)
        .where(_room_activity.room_id.in_([r.id for r in rows]))
        .order_by(_activity.position)
    )
    for room_id, code in result:
        offered[room_id].append(code)
    return [{**row._mapping, "activities": offered[row.id]} for row in rows]


async def list_rooms(
    conn: AsyncConnection, *, limit: int, after: str | None
) -> list[dict[str, Any]]:
    query = select(*_ROOM_COLUMNS).order_by(_room.slug).limit(limit + 1)
    if after is not None:
        query = query.where(_room.slug > after)
    rows = list(await conn.execute(query))
    return await _with_activities(conn, rows)


async def get_room(conn: AsyncConnection, slug: str) -> dict[str, Any]:
    rows = list(await conn.execute(select(*_ROOM_COLUMNS).where(_room.slug == slug)))
    if not rows:
        raise NotFound(f"There is no room '{slug[:60]}'.")
    return (await _with_activities(conn, rows))[0]


async def list_activities(
    conn: AsyncConnection, *, limit: int, after: int | None
) -> list[dict[str, Any]]:
    query = (
        select(
            _activity.code,
            _activity.label_nl,
            _activity.label_en,
            _activity.target_unit,
            _activity.position,
        )
        .order_by(_activity.position)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(_activity.position > after)
    return [dict(r._mapping) for r in await conn.execute(query)]


async def list_partners(
    conn: AsyncConnection, *, limit: int, after: str | None
) -> list[dict[str, Any]]:
    query = (
        select(_partner.code, _partner.name, _partner.kind).order_by(_partner.code).limit(limit + 1)
    )
    if after is not None:
        query = query.where(_partner.code > after)
    return [dict(r._mapping) for r in await conn.execute(query)]


async def update_room(
    conn: AsyncConnection, principal: Principal, slug: str, body: RoomUpdate
) -> dict[str, Any]:
    """Changes the fields the body names (a PATCH: the ones left out stay as they are)."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("opening_hours") is not None:
        changes["opening_hours"] = [dict(h) for h in changes["opening_hours"]]
    room = await get_room(conn, slug)
    activities = changes.pop("activities", None)
    if changes:
        await conn.execute(update(Room).where(_room.id == room["id"]).values(**changes))
    if activities is not None:
        found: dict[str, int] = dict(
            (
                await conn.execute(
                    select(_activity.code, _activity.id).where(_activity.code.in_(activities))
                )
            ).all()
        )
        unknown = [a for a in activities if a not in found]
        if unknown:
            raise InvalidInput([("activities", f"unknown activity '{a[:40]}'") for a in unknown])
        await conn.execute(delete(RoomActivity).where(_room_activity.room_id == room["id"]))
        if activities:
            await conn.execute(
                insert(RoomActivity),
                [
                    {"room_id": room["id"], "activity_id": found[a]}
                    for a in dict.fromkeys(activities)
                ],
            )
    fields = sorted([*changes, *(["activities"] if activities is not None else [])])
    await record(
        conn,
        actor=principal,
        action="room.update",
        object_type="room",
        object_id=slug,
        details={"fields": fields},
    )
    return await get_room(conn, slug)


@dataclass(frozen=True, slots=True)
class RoomRef:
    id: int
    slug: str
    opened_on: date


@dataclass(slots=True)
class Reference:
    """The published identifiers and their ids: rooms, activities and chain partners."""

    rooms: dict[str, RoomRef]
    room_slugs: dict[int, str]
    activities: dict[str, int]
    activity_codes: dict[int, str]
    partners: dict[str, int]
    partner_codes: dict[int, str]


# Slugs and codes are published identifiers that never change and are never deleted, so a
# per-process map is safe; an unknown one reloads it (a room added since start-up).
_references: dict[str, Reference] = {}


async def _load_reference(conn: AsyncConnection) -> Reference:
    """In the order of the ids, which never change: the activities' order is the district's
    table columns', which decides ties in the disclosure control, so every process must read
    the same one (without ORDER BY, PostgreSQL gave an edited row last)."""
    rooms = {
        r.slug: RoomRef(r.id, r.slug, r.opened_on)
        for r in await conn.execute(
            select(_room.id, _room.slug, _room.opened_on).order_by(_room.id)
        )
    }
    activities: dict[str, int] = dict(
        (await conn.execute(select(_activity.code, _activity.id).order_by(_activity.id))).all()
    )
    partners: dict[str, int] = dict(
        (await conn.execute(select(_partner.code, _partner.id).order_by(_partner.id))).all()
    )
    reference = Reference(
        rooms,
        {r.id: s for s, r in rooms.items()},
        activities,
        {i: c for c, i in activities.items()},
        partners,
        {i: c for c, i in partners.items()},
    )
    _references[str(conn.engine.url)] = reference
    return reference


async def reference(
    conn: AsyncConnection,
    *,
    room: str | None = None,
    activity: str | None = None,
    room_id: int | None = None,
    partner: str | None = None,
    partner_ids: Iterable[int] = (),
) -> Reference:
    """The cached reference; reloaded when it lacks the room, activity or partner asked for."""
    cached = _references.get(str(conn.engine.url))
    if (
        cached is None
        or (room is not None and room not in cached.rooms)
        or (activity is not None and activity not in cached.activities)
        or (room_id is not None and room_id not in cached.room_slugs)
        or (partner is not None and partner not in cached.partners)
        or any(i not in cached.partner_codes for i in partner_ids)
    ):
        return await _load_reference(conn)
    return cached


async def room_ref(conn: AsyncConnection, slug: str) -> RoomRef | None:
    return (await reference(conn, room=slug)).rooms.get(slug)


async def activity_id(conn: AsyncConnection, code: str) -> int | None:
    return (await reference(conn, activity=code)).activities.get(code)


async def partner_id(conn: AsyncConnection, code: str) -> int | None:
    return (await reference(conn, partner=code)).partners.get(code)


async def partner_codes(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, str]:
    """Partner id -> code, holding at least the ids given."""
    return (await reference(conn, partner_ids=ids)).partner_codes


async def activity_units(conn: AsyncConnection) -> dict[str, str]:
    """Activity code -> the unit its target counts in, in the published order."""
    rows = await conn.execute(
        select(_activity.code, _activity.target_unit).order_by(_activity.position)
    )
    return {code: unit for code, unit in rows}  # noqa: C416 - rows are Row objects
