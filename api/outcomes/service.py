"""Outcome measurements and volunteering of one resident (the outcome targets: indicators).

A resident's measurements are written by the rooms that serve the resident and seen by the
room that recorded them and the resident's home room (api/scoping.py); every read and write
is audited. Measurements are personal: erasure deletes them. Volunteering holds ids and
dates only, so it stays for the figures.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Table, delete, exists, insert, null, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import record
from api.base import table, utcnow
from api.caller import Principal
from api.errors import Conflict, InvalidInput
from api.outcomes.models import LADDER, VOLUNTEERING_RUNG, Assessment, Volunteering
from api.registrations.service import check_date
from api.rooms import service as rooms
from api.scoping import recorded_for, require_room, served_resident, serving_rooms

_assessment: Table = table(Assessment)
_volunteering: Table = table(Volunteering)

RESTRICTED = "Processing of this resident is restricted (GDPR art. 18)."


async def list_assessments(
    conn: AsyncConnection,
    principal: Principal,
    resident_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[date, uuid.UUID] | None,
) -> list[dict[str, Any]]:
    resident = await served_resident(conn, principal, resident_id)
    query = select(_assessment).where(
        _assessment.c.resident_id == resident_id,
        recorded_for(principal, resident.home_room_id, _assessment.c.room_id),
    )
    if after is not None:
        query = query.where(tuple_(_assessment.c.assessed_on, _assessment.c.id) > tuple_(*after))
    rows = await conn.execute(
        query.order_by(_assessment.c.assessed_on, _assessment.c.id).limit(limit + 1)
    )
    await record(
        conn,
        actor=principal,
        action="assessment.list",
        object_type="resident",
        object_id=resident_id,
        resident_id=resident_id,
    )
    ref = await rooms.reference(conn)
    return [{**r._mapping, "room": ref.room_slugs[r.room_id]} for r in rows]


async def _measuring_room(
    conn: AsyncConnection, principal: Principal, resident: Any, slug: str | None
) -> rooms.RoomRef:
    """The room of the caller's that measures: the one named, else the home room if the caller
    works there, else the one room of the caller's that serves the resident."""
    ref = await rooms.reference(conn, room=slug)
    serving = await serving_rooms(conn, principal, resident.id)
    if slug is not None:
        room = require_room(principal, ref.rooms.get(slug), slug)
        if room.id not in serving:
            raise InvalidInput([("room", f"{room.slug} does not serve this resident")])
        return room
    if resident.home_room_id in serving:
        return ref.rooms[ref.room_slugs[resident.home_room_id]]
    if len(serving) == 1:
        return ref.rooms[ref.room_slugs[next(iter(serving))]]
    raise InvalidInput([("room", "say which of your rooms took the measurement")])


async def record_assessment(
    conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID, data: dict[str, Any]
) -> dict[str, Any]:
    resident = await served_resident(conn, principal, resident_id)
    if resident.restricted_at is not None:
        raise Conflict(RESTRICTED)
    room = await _measuring_room(conn, principal, resident, data.get("room"))
    row = {
        "id": uuid.uuid4(),
        "resident_id": resident_id,
        "room_id": room.id,
        "instrument": data["instrument"],
        "assessed_on": data["assessed_on"],
        "rung": data["rung"],
        "scores": data["scores"],
        "recorded_by": principal.id,
        "created_at": utcnow(),
    }
    # SQL NULL, not a JSON null, for the ladder's scores
    scores = null() if row["scores"] is None else row["scores"]
    await conn.execute(insert(_assessment).values({**row, "scores": scores}))
    await record(
        conn,
        actor=principal,
        action="assessment.create",
        object_type="assessment",
        object_id=row["id"],
        resident_id=resident_id,
    )
    return {**row, "room": room.slug}


async def _volunteering_of(
    conn: AsyncConnection, resident_id: uuid.UUID, *seen: Any
) -> list[dict[str, Any]]:
    ref = await rooms.reference(conn)
    rows = await conn.execute(
        select(_volunteering)
        .where(_volunteering.c.resident_id == resident_id, *seen)
        .order_by(_volunteering.c.since, _volunteering.c.id)
    )
    return [{**r._mapping, "room": ref.room_slugs[r.room_id]} for r in rows]


async def list_volunteering(
    conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID
) -> list[dict[str, Any]]:
    resident = await served_resident(conn, principal, resident_id)
    await record(
        conn,
        actor=principal,
        action="volunteering.read",
        object_type="resident",
        object_id=resident_id,
        resident_id=resident_id,
    )
    seen = recorded_for(principal, resident.home_room_id, _volunteering.c.room_id)
    return await _volunteering_of(conn, resident_id, seen)


async def record_volunteering(
    conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID, data: dict[str, Any]
) -> dict[str, Any]:
    """The resident volunteers for a room of the caller's from `since`; suggests rung 4."""
    resident = await served_resident(conn, principal, resident_id)
    room = require_room(principal, await rooms.room_ref(conn, data["room"]), data["room"])
    if resident.restricted_at is not None:
        raise Conflict(RESTRICTED)
    check_date(data["since"], room, "since")
    already = exists().where(
        _volunteering.c.resident_id == resident_id,
        _volunteering.c.room_id == room.id,
        _volunteering.c.until.is_(None),
    )
    if (await conn.execute(select(already))).scalar():
        raise Conflict(f"This resident already volunteers for {room.slug}.")
    volunteering_id = uuid.uuid4()
    await conn.execute(
        insert(_volunteering).values(
            id=volunteering_id,
            resident_id=resident_id,
            room_id=room.id,
            since=data["since"],
            recorded_by=principal.id,
            created_at=utcnow(),
        )
    )
    await record(
        conn,
        actor=principal,
        action="volunteering.create",
        object_type="volunteering",
        object_id=volunteering_id,
        resident_id=resident_id,
    )
    latest_rung = (
        await conn.execute(
            select(_assessment.c.rung)
            .where(
                _assessment.c.resident_id == resident_id,
                _assessment.c.instrument == LADDER,
                # the suggestion tells of the latest rung: only of one the caller may read
                recorded_for(principal, resident.home_room_id, _assessment.c.room_id),
            )
            .order_by(_assessment.c.assessed_on.desc(), _assessment.c.created_at.desc())
            .limit(1)
        )
    ).scalar()
    created = next(
        v for v in await _volunteering_of(conn, resident_id) if v["id"] == volunteering_id
    )
    below = latest_rung is not None and latest_rung < VOLUNTEERING_RUNG
    return {**created, "suggested_rung": VOLUNTEERING_RUNG if below else None}


async def erase_outcomes(conn: AsyncConnection, resident_id: uuid.UUID) -> None:
    """Erasure (GDPR art. 17): the measurements go; volunteering holds ids and dates only, so
    it stays and 'became a volunteer' still counts."""
    await conn.execute(delete(_assessment).where(_assessment.c.resident_id == resident_id))


async def export_outcomes(conn: AsyncConnection, resident_id: uuid.UUID) -> dict[str, Any]:
    """A resident's measurements and volunteering, for the GDPR access export (art. 15)."""
    assessments = await conn.execute(
        select(
            _assessment.c.id,
            _assessment.c.room_id,
            _assessment.c.instrument,
            _assessment.c.assessed_on,
            _assessment.c.rung,
            _assessment.c.scores,
            _assessment.c.created_at,
        )
        .where(_assessment.c.resident_id == resident_id)
        .order_by(_assessment.c.assessed_on, _assessment.c.id)
    )
    volunteering = await _volunteering_of(conn, resident_id)
    ref = await rooms.reference(conn)
    return {
        "assessments": [{**r._mapping, "room": ref.room_slugs[r.room_id]} for r in assessments],
        "volunteering": [
            {k: v[k] for k in ("id", "room", "since", "until", "created_at")} for v in volunteering
        ],
    }
