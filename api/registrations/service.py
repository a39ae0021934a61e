"""Registering help: the desk's hot path and corrections by coordinators (imports:
imports.py)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Table, insert, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import record, record_many
from api.base import table, utcnow
from api.calendar import today
from api.caller import Principal
from api.db import keeping
from api.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from api.registrations.models import Registration
from api.registrations.schemas import RegistrationUpdate
from api.residents import service as residents
from api.residents.lookup import CodeLimits
from api.residents.schemas import ResidentFields
from api.rooms import service as rooms
from api.scoping import readable_registrations, require_room

_reg: Table = table(Registration)
_COLUMNS = (
    _reg.c.id,
    _reg.c.room_id,
    _reg.c.activity_id,
    _reg.c.occurred_on,
    _reg.c.resident_id,
    _reg.c.headcount,
    _reg.c.note,
    _reg.c.registered_by,
    _reg.c.created_at,
    _reg.c.updated_at,
    _reg.c.version,
    _reg.c.voided_at,
    _reg.c.void_reason,
)


def check_date(occurred_on: date, room: rooms.RoomRef, name: str = "occurredOn") -> None:
    if occurred_on > today():
        raise InvalidInput([(name, "is in the future")])
    if occurred_on < room.opened_on:
        raise InvalidInput([(name, f"is before {room.slug} opened ({room.opened_on})")])


def _public(row: dict[str, Any], ref: Any) -> dict[str, Any]:
    """Exactly the fields of RegistrationPublic (lists send it without re-validation)."""
    return {
        "id": row["id"],
        "room": ref.room_slugs[row["room_id"]],
        "activity": ref.activity_codes[row["activity_id"]],
        "occurred_on": row["occurred_on"],
        "resident_id": row["resident_id"],
        "headcount": row["headcount"],
        "note": row["note"],
        "registered_by": row["registered_by"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
        "voided": row["voided_at"] is not None,
        "voided_at": row["voided_at"],
        "void_reason": row["void_reason"],
    }


async def create_registration(
    conn: AsyncConnection, principal: Principal, data: dict[str, Any], limits: CodeLimits
) -> dict[str, Any]:
    ref = await rooms.reference(conn, room=data["room"], activity=data["activity"])
    room = require_room(principal, ref.rooms.get(data["room"]), data["room"])
    activity_id = ref.activities.get(data["activity"])
    if activity_id is None:
        raise InvalidInput([("activity", f"unknown activity '{data['activity']}'")])
    check_date(data["occurred_on"], room)
    resident_id: uuid.UUID | None = None
    if data.get("resident") is not None:
        # the router still hands this function a dict: the nested model, rebuilt unvalidated
        new = ResidentFields.model_construct(**data["resident"])
        resident_id = await residents.insert_resident(conn, principal, room.id, new)
    elif data.get("resident_id") is not None:
        resident_id = await residents.resident_for_help(conn, data["resident_id"])
        await residents.link_room(conn, resident_id, room.id, data["occurred_on"])
    elif data.get("resident_code") is not None:
        async with keeping(conn) as writes:
            resident_id = await residents.resident_by_code(
                conn, principal, limits, data["resident_code"], writes
            )
        await residents.link_room(conn, resident_id, room.id, data["occurred_on"])
    now = utcnow()
    row = {
        "id": uuid.uuid4(),
        "room_id": room.id,
        "activity_id": activity_id,
        "occurred_on": data["occurred_on"],
        "resident_id": resident_id,
        "headcount": data.get("headcount") or 1,
        "note": data.get("note"),
        "registered_by": principal.id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "voided_at": None,
        "void_reason": None,
    }
    await conn.execute(insert(_reg).values(row))
    if resident_id is not None:
        await record(
            conn,
            actor=principal,
            action="registration.create",
            object_type="registration",
            object_id=row["id"],
            resident_id=resident_id,
        )
    return _public(row, ref)


async def get_registration(
    conn: AsyncConnection, principal: Principal, registration_id: uuid.UUID, *, audit: bool = True
) -> dict[str, Any]:
    row = (
        await conn.execute(
            readable_registrations(principal, *_COLUMNS).where(_reg.c.id == registration_id)
        )
    ).first()
    if row is None:
        raise NotFound("There is no such registration at your rooms.")
    if audit and row.resident_id is not None:
        await record(
            conn,
            actor=principal,
            action="registration.read",
            object_type="registration",
            object_id=row.id,
            resident_id=row.resident_id,
        )
    return _public(dict(row._mapping), await rooms.reference(conn, room_id=row.room_id))


async def list_registrations(
    conn: AsyncConnection,
    principal: Principal,
    *,
    limit: int,
    after: tuple[date, uuid.UUID] | None,
    room: str | None = None,
    activity: str | None = None,
    since: date | None = None,
    until: date | None = None,
    resident_id: uuid.UUID | None = None,
    include_voided: bool = False,
) -> list[dict[str, Any]]:
    ref = await rooms.reference(conn, room=room, activity=activity)
    query = readable_registrations(principal, *_COLUMNS)
    if room is not None:
        query = query.where(_reg.c.room_id == (ref.rooms[room].id if room in ref.rooms else -1))
    if activity is not None:
        query = query.where(_reg.c.activity_id == ref.activities.get(activity, -1))
    if since is not None:
        query = query.where(_reg.c.occurred_on >= since)
    if until is not None:
        query = query.where(_reg.c.occurred_on <= until)
    if resident_id is not None:
        query = query.where(_reg.c.resident_id == resident_id)
    if not include_voided:
        query = query.where(_reg.c.voided_at.is_(None))
    if after is not None:
        query = query.where(tuple_(_reg.c.occurred_on, _reg.c.id) < tuple_(*after))
    query = query.order_by(_reg.c.occurred_on.desc(), _reg.c.id.desc()).limit(limit + 1)
    result = await conn.execute(query)
    keys = list(result.keys())
    rows = [dict(zip(keys, r, strict=True)) for r in result]
    shown = {r["resident_id"] for r in rows[:limit] if r["resident_id"] is not None}
    # who looked at whose help: one event per resident shown, in one statement
    await record_many(
        conn,
        [
            {
                "actor": principal,
                "action": "registration.list",
                "object_type": "resident",
                "object_id": r,
                "resident_id": r,
            }
            for r in shown
        ],
    )
    return [_public(r, ref) for r in rows]


def parse_etag(if_match: str | None) -> int:
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag you read, so no edit is lost.")
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed("If-Match does not match this registration's ETag.")
    return int(value)


async def correct_registration(
    conn: AsyncConnection,
    principal: Principal,
    registration_id: uuid.UUID,
    if_match: str | None,
    body: RegistrationUpdate,
) -> dict[str, Any]:
    """A coordinator's correction (or voiding) of the fields the body names, if the caller
    read the current version."""
    # the correction is on the record as such: no read event besides
    current = await get_registration(conn, principal, registration_id, audit=False)
    expected = parse_etag(if_match)
    if current["version"] != expected:
        raise PreconditionFailed("The registration was changed since you read it; read it again.")
    if current["voided"]:
        raise Conflict("A voided registration cannot be changed.")
    await residents.refuse_if_restricted(conn, current["resident_id"])
    values: dict[str, Any] = {}
    ref = await rooms.reference(conn, activity=body.activity)
    if body.activity is not None:
        if body.activity not in ref.activities:
            raise InvalidInput([("activity", f"unknown activity '{body.activity}'")])
        values["activity_id"] = ref.activities[body.activity]
    if body.occurred_on is not None:
        check_date(body.occurred_on, ref.rooms[current["room"]])
        values["occurred_on"] = body.occurred_on
    if body.headcount is not None:
        if current["resident_id"] is not None and body.headcount != 1:
            raise InvalidInput([("headcount", "a registration for one resident has headcount 1")])
        values["headcount"] = body.headcount
    if "note" in body.model_fields_set:
        values["note"] = body.note
    now = utcnow()
    if body.voided:
        values.update(voided_at=now, voided_by=principal.id, void_reason=body.reason)
    values.update(updated_at=now, version=expected + 1)
    result = await conn.execute(
        update(_reg)
        .where(_reg.c.id == registration_id, _reg.c.version == expected)
        .values(**values)
    )
    if result.rowcount != 1:
        raise PreconditionFailed("The registration was changed since you read it; read it again.")
    await record(
        conn,
        actor=principal,
        action="registration.void" if body.voided else "registration.correct",
        object_type="registration",
        object_id=registration_id,
        resident_id=current["resident_id"],
        details={"fields": sorted(values)},
    )
    public = {"activity": body.activity} if "activity_id" in values else {}
    return {**current, **values, **public, "voided": "voided_at" in values}
