"""Registering help: the desk's hot path, corrections by coordinators, and imports."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Table, insert, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import record, record_many
from api.base import table, utcnow
from api.calendar import today
from api.caller import Principal
from api.db import Writes, bulk_insert, keeping
from api.errors import (
    AppError,
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    UnknownCodes,
)
from api.registrations.importing import parse_import_row
from api.registrations.models import Registration
from api.residents import service as residents
from api.residents.lookup import CodeLimits, audit, reach_by_code
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
        resident_id = await residents.insert_resident(conn, principal, room.id, data["resident"])
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
    changes: dict[str, Any],
) -> dict[str, Any]:
    # the correction is on the record as such: no read event besides
    current = await get_registration(conn, principal, registration_id, audit=False)
    expected = parse_etag(if_match)
    if current["version"] != expected:
        raise PreconditionFailed("The registration was changed since you read it; read it again.")
    if current["voided"]:
        raise Conflict("A voided registration cannot be changed.")
    await residents.refuse_if_restricted(conn, current["resident_id"])
    reason = changes.pop("reason")
    values: dict[str, Any] = {}
    ref = await rooms.reference(conn, activity=changes.get("activity"))
    if changes.get("activity") is not None:
        if changes["activity"] not in ref.activities:
            raise InvalidInput([("activity", f"unknown activity '{changes['activity']}'")])
        values["activity_id"] = ref.activities[changes["activity"]]
    if changes.get("occurred_on") is not None:
        check_date(changes["occurred_on"], ref.rooms[current["room"]])
        values["occurred_on"] = changes["occurred_on"]
    if changes.get("headcount") is not None:
        if current["resident_id"] is not None and changes["headcount"] != 1:
            raise InvalidInput([("headcount", "a registration for one resident has headcount 1")])
        values["headcount"] = changes["headcount"]
    if "note" in changes:
        values["note"] = changes["note"]
    now = utcnow()
    if changes.get("voided"):
        values.update(voided_at=now, voided_by=principal.id, void_reason=reason)
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
        action="registration.void" if changes.get("voided") else "registration.correct",
        object_type="registration",
        object_id=registration_id,
        resident_id=current["resident_id"],
        details={"fields": sorted(values)},
    )
    return {**current, **values, **_public_ids(values, ref), "voided": "voided_at" in values}


def _public_ids(values: dict[str, Any], ref: Any) -> dict[str, Any]:
    out = {}
    if "activity_id" in values:
        out["activity"] = ref.activity_codes[values["activity_id"]]
    return out


ProgressFn = Callable[[int], None]


# the same text however many codes are unknown, and which: an answer must tell nothing
UNKNOWN_CODES = (
    "The list holds resident codes that are not known; nothing was imported. "
    "Check the codes against the residents' cards."
)


async def _checked_rows(
    conn: AsyncConnection,
    principal: Principal,
    limits: CodeLimits,
    ref: Any,
    room: rooms.RoomRef,
    rows: list[tuple[int, dict[str, str]]],
    writes: Writes,
) -> tuple[list[dict[str, Any]], dict[str, uuid.UUID]]:
    """Every row parsed, and the residents of its codes; or the import is refused whole."""
    parsed, errors = [], []
    day = today()
    for line, raw in rows:
        try:
            item = parse_import_row(raw, ref.activities, room, line, day)
        except ValueError as exc:
            errors.append((f"line {line}", str(exc)))
            if len(errors) >= 1000:
                break
            continue
        parsed.append(item)
    if errors:
        raise InvalidInput(
            errors[:1000], detail=f"{len(errors)} line(s) are not right; nothing was imported."
        )
    codes = [item["resident_code"] for item in parsed if item["resident_code"]]
    if not codes:
        return parsed, {}
    found = await reach_by_code(conn, principal, limits, codes, writes, via="import")
    if len(found) < len(set(codes)):
        raise UnknownCodes(UNKNOWN_CODES)
    restricted = [
        f"line {item['line']}"
        for item in parsed
        if item["resident_code"] and found[item["resident_code"]].restricted
    ]
    if restricted:
        raise Conflict(
            f"Processing of the resident on {restricted[0]} is restricted (GDPR art. 18); "
            "nothing was imported.",
            extra={
                "invalidParams": [
                    {"name": line, "reason": "processing of this resident is restricted"}
                    for line in restricted[:1000]
                ]
            },
        )
    return parsed, {code: f.id for code, f in found.items()}


async def import_registrations(
    conn: AsyncConnection,
    principal: Principal,
    room_slug: str,
    rows: list[tuple[int, dict[str, str]]],
    limits: CodeLimits,
    progress: ProgressFn | None = None,
) -> dict[str, int]:
    """All or nothing: every bad row is reported by its line number, or every row is kept.
    A refused import is on the audit trail (with counts only)."""
    ref = await rooms.reference(conn, room=room_slug)
    async with keeping(conn) as writes:
        try:
            room = require_room(principal, ref.rooms.get(room_slug), room_slug)
            parsed, known = await _checked_rows(conn, principal, limits, ref, room, rows, writes)
        except AppError as err:
            writes.append(
                audit(
                    principal,
                    "registration.import_refused",
                    room=room_slug,
                    reason=err.slug,
                    lines=len(rows),
                )
            )
            raise
    day = today()
    # new residents named on the list: one per distinct name within this file
    names = list(
        dict.fromkeys(
            item["resident_name"]
            for item in parsed
            if item["resident_name"] and not item["resident_code"]
        )
    )
    created = await residents.insert_named_residents(conn, principal, room.id, names, day)
    now = utcnow()
    batch: list[dict[str, Any]] = []
    served: dict[uuid.UUID, date] = {}
    done = 0
    for item in parsed:
        resident_id = (
            known[item["resident_code"]]
            if item["resident_code"]
            else created.get(item["resident_name"])
            if item["resident_name"]
            else None
        )
        if resident_id is not None:
            served[resident_id] = min(
                item["occurred_on"], served.get(resident_id, item["occurred_on"])
            )
        batch.append(
            {
                "id": uuid.uuid4(),
                "room_id": room.id,
                "activity_id": item["activity_id"],
                "occurred_on": item["occurred_on"],
                "resident_id": resident_id,
                "headcount": item["headcount"],
                "note": item["note"],
                "registered_by": principal.id,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
        if len(batch) == 5000:
            await bulk_insert(conn, _reg, batch)
            done += len(batch)
            batch = []
            if progress:
                progress(done)
    if batch:
        await bulk_insert(conn, _reg, batch)
        done += len(batch)
        if progress:
            progress(done)
    await residents.link_rooms(conn, [(r, room.id, first) for r, first in served.items()])
    await record_many(
        conn,
        [
            {
                "actor": principal,
                "action": "registration.import",
                "object_type": "resident",
                "object_id": r,
                "resident_id": r,
            }
            for r in served
        ],
    )
    await record(
        conn,
        actor=principal,
        action="registration.import",
        object_type="room",
        object_id=room.slug,
        details={"registrations": done, "residents": len(created)},
    )
    return {"registrations": done, "residents_created": len(created)}
