"""Residents: scoped to the rooms that serve them; every read and write is audited."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Table, exists, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import Event, record, record_many
from api.base import table, utcnow
from api.caller import Principal
from api.db import Writes, keeping
from api.errors import Conflict, InvalidInput, NotFound
from api.residents import codes
from api.residents.lookup import CodeLimits, reach_by_code
from api.residents.models import Resident, ResidentRoom
from api.residents.schemas import ResidentCreate, ResidentFields, ResidentUpdate
from api.rooms import service as rooms
from api.rooms.models import Room
from api.scoping import readable_residents, require_room, served_by

_resident: Table = table(Resident)
_resident_room: Table = table(ResidentRoom)
_room: Table = table(Room)

RESTRICTED = "Processing of this resident is restricted (GDPR art. 18)."
_COLUMNS = (
    _resident.c.id,
    _resident.c.code,
    _resident.c.name,
    _resident.c.contact,
    _resident.c.birth_year,
    _resident.c.age_band,
    _resident.c.postcode_area,
    _resident.c.languages,
    _resident.c.home_room_id,
    _resident.c.created_at,
    _resident.c.updated_at,
    _resident.c.restricted_at,
)


async def link_room(conn: AsyncConnection, resident_id: uuid.UUID, room_id: int, on: date) -> None:
    """Record that a room serves a resident (once)."""
    await link_rooms(conn, [(resident_id, room_id, on)])


async def link_rooms(conn: AsyncConnection, links: list[tuple[uuid.UUID, int, date]]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    for i in range(0, len(links), 5000):
        values = [
            {"resident_id": r, "room_id": room, "since": on} for r, room, on in links[i : i + 5000]
        ]
        await conn.execute(dialect.insert(_resident_room).values(values).on_conflict_do_nothing())


async def insert_resident(
    conn: AsyncConnection, principal: Principal, room_id: int, fields: ResidentFields
) -> uuid.UUID:
    """A new resident with a freshly drawn code, served by (and at home in) `room_id`."""
    resident_id = uuid.uuid4()
    now = utcnow()
    values = {name: getattr(fields, name) for name in ResidentFields.model_fields}
    for _ in range(5):
        try:
            async with conn.begin_nested():
                await conn.execute(
                    insert(_resident).values(
                        id=resident_id,
                        code=codes.generate(),
                        home_room_id=room_id,
                        created_by=principal.id,
                        created_at=now,
                        updated_at=now,
                        **values,
                    )
                )
            break
        except IntegrityError as exc:
            if "code" not in str(exc.orig):
                raise
            continue  # a code taken already: draw again
    else:
        raise RuntimeError("could not draw a free resident code")
    await link_room(conn, resident_id, room_id, now.date())
    await record(
        conn,
        actor=principal,
        action="resident.create",
        object_type="resident",
        object_id=resident_id,
        resident_id=resident_id,
    )
    return resident_id


async def insert_named_residents(
    conn: AsyncConnection, principal: Principal, room_id: int, names: list[str], on: date
) -> dict[str, uuid.UUID]:
    """One new resident per name (an imported list), in a few statements."""
    if not names:
        return {}
    now = utcnow()
    ids = {name: uuid.uuid4() for name in names}
    for _ in range(5):
        drawn: set[str] = set()
        while len(drawn) < len(names):
            drawn.add(codes.generate())
        rows = [
            {
                "id": ids[name],
                "code": code,
                "name": name,
                "languages": [],
                "home_room_id": room_id,
                "created_by": principal.id,
                "created_at": now,
                "updated_at": now,
            }
            for name, code in zip(names, drawn, strict=True)
        ]
        try:
            async with conn.begin_nested():
                for i in range(0, len(rows), 5000):
                    await conn.execute(insert(_resident), rows[i : i + 5000])
            break
        except IntegrityError as exc:
            if "code" not in str(exc.orig):
                raise
    else:
        raise RuntimeError("could not draw free resident codes")
    await link_rooms(conn, [(i, room_id, on) for i in ids.values()])
    await record_many(
        conn,
        [
            Event(
                actor=principal,
                action="resident.create",
                object_type="resident",
                object_id=i,
                resident_id=i,
            )
            for i in ids.values()
        ],
    )
    return ids


async def _rooms_of(conn: AsyncConnection, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = defaultdict(list)
    if ids:
        result = await conn.execute(
            select(_resident_room.c.resident_id, _room.c.slug)
            .join(_room, _room.c.id == _resident_room.c.room_id)
            .where(_resident_room.c.resident_id.in_(ids))
            .order_by(_room.c.slug)
        )
        for resident_id, slug in result:
            out[resident_id].append(slug)
    return out


async def _public(conn: AsyncConnection, rows: list[Any]) -> list[dict[str, Any]]:
    served = await _rooms_of(conn, [r.id for r in rows])
    ref = await rooms.reference(conn)
    return [
        {
            **r._mapping,
            "home_room": ref.room_slugs[r.home_room_id],
            "rooms": served[r.id],
            "restricted": r.restricted_at is not None,
        }
        for r in rows
    ]


async def create_resident(
    conn: AsyncConnection, principal: Principal, body: ResidentCreate
) -> dict[str, Any]:
    room = require_room(principal, await rooms.room_ref(conn, body.room), body.room)
    resident_id = await insert_resident(conn, principal, room.id, body)
    return await get_resident(conn, principal, resident_id, audit=False)


async def get_resident(
    conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID, *, audit: bool = True
) -> dict[str, Any]:
    row = (
        await conn.execute(
            readable_residents(principal, *_COLUMNS).where(_resident.c.id == resident_id)
        )
    ).first()
    if row is None:
        raise NotFound("There is no such resident among the people your rooms serve.")
    if audit:
        await record(
            conn,
            actor=principal,
            action="resident.read",
            object_type="resident",
            object_id=resident_id,
            resident_id=resident_id,
        )
    return (await _public(conn, [row]))[0]


async def list_residents(
    conn: AsyncConnection,
    principal: Principal,
    *,
    limit: int,
    after: tuple[str, str] | None,
    room: str | None,
    code: str | None,
    limits: CodeLimits,
) -> list[dict[str, Any]]:
    # a restricted resident is kept, not processed: not in lists (GDPR art. 18)
    query = readable_residents(principal, *_COLUMNS).where(_resident.c.restricted_at.is_(None))
    if code is not None:
        code = codes.checked(code, "code")
        async with keeping(conn) as writes:
            # a code the caller's rooms do not serve is a miss: the answer is the same
            await reach_by_code(
                conn, principal, limits, [code], writes, via="list", visible=served_by(principal)
            )
        query = query.where(_resident.c.code == code)
    if room is not None:
        ref = await rooms.room_ref(conn, room)
        query = query.where(
            exists().where(
                _resident_room.c.resident_id == _resident.c.id,
                _resident_room.c.room_id == (ref.id if ref else -1),
            )
        )
    if after is not None:
        query = query.where(_resident.c.code > after[0])
    rows = list(await conn.execute(query.order_by(_resident.c.code).limit(limit + 1)))
    page = rows[:limit]
    await record_many(
        conn,
        [
            Event(
                actor=principal,
                action="resident.list",
                object_type="resident",
                object_id=r.id,
                resident_id=r.id,
            )
            for r in page
        ],
    )
    return await _public(conn, rows)


async def update_resident(
    conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID, body: ResidentUpdate
) -> dict[str, Any]:
    """Changes the fields the body names (a PATCH: the ones left out stay as they are)."""
    changes = body.model_dump(exclude_unset=True)
    current = await get_resident(conn, principal, resident_id, audit=False)
    if current["restricted"]:
        raise Conflict(RESTRICTED)
    if changes:
        await conn.execute(
            update(_resident)
            .where(_resident.c.id == resident_id)
            .values(**changes, updated_at=utcnow())
        )
    await record(
        conn,
        actor=principal,
        action="resident.update",
        object_type="resident",
        object_id=resident_id,
        resident_id=resident_id,
        details={"fields": sorted(changes)},
    )
    return await get_resident(conn, principal, resident_id, audit=False)


async def resident_for_help(conn: AsyncConnection, resident_id: uuid.UUID) -> uuid.UUID:
    """Any room may register help for a resident whose id it is given (unless restricted)."""
    found = (
        await conn.execute(
            select(_resident.c.id, _resident.c.restricted_at).where(
                _resident.c.id == resident_id, _resident.c.erased_at.is_(None)
            )
        )
    ).first()
    if found is None:
        raise InvalidInput([("residentId", "no resident with this id")])
    if found.restricted_at is not None:
        raise Conflict(RESTRICTED)
    return uuid.UUID(str(found.id))


async def resident_by_code(
    conn: AsyncConnection, principal: Principal, limits: CodeLimits, code: str, writes: Writes
) -> uuid.UUID:
    """Any room may register help for a resident who shows its code: a mistyped code is a
    422 that costs nothing, an unknown one a miss (see lookup.py)."""
    code = codes.checked(code)
    found = await reach_by_code(conn, principal, limits, [code], writes, via="registration")
    if code not in found:
        raise InvalidInput([("residentCode", "no resident with this code")])
    if found[code].restricted:
        raise Conflict(RESTRICTED)
    return found[code].id


async def refuse_if_restricted(conn: AsyncConnection, resident_id: uuid.UUID | None) -> None:
    """Processing of a restricted resident is refused (GDPR art. 18): 409."""
    if resident_id is None:
        return
    restricted = (
        await conn.execute(select(_resident.c.restricted_at).where(_resident.c.id == resident_id))
    ).scalar()
    if restricted is not None:
        raise Conflict(RESTRICTED)
