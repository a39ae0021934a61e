"""Importing a room's paper list or spreadsheet: every row, or none (the rows are read and
checked in importing.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import Event, record, record_many
from api.base import table, utcnow
from api.calendar import today
from api.caller import Principal
from api.db import Writes, bulk_insert, keeping
from api.errors import AppError, Conflict, InvalidInput, UnknownCodes
from api.registrations.importing import ImportRow, parse_import_row
from api.registrations.models import Registration
from api.residents import service as residents
from api.residents.lookup import CodeLimits, audit, reach_by_code
from api.rooms import service as rooms
from api.scoping import require_room

_reg: Table = table(Registration)

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
    ref: rooms.Reference,
    room: rooms.RoomRef,
    rows: list[tuple[int, dict[str, str]]],
    writes: Writes,
) -> tuple[list[ImportRow], dict[str, uuid.UUID]]:
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
    done, served = await _insert_rows(conn, principal, room.id, parsed, known, created, progress)
    await residents.link_rooms(conn, [(r, room.id, first) for r, first in served.items()])
    await record_many(
        conn,
        [
            Event(
                actor=principal,
                action="registration.import",
                object_type="resident",
                object_id=r,
                resident_id=r,
            )
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


async def _insert_rows(
    conn: AsyncConnection,
    principal: Principal,
    room_id: int,
    parsed: list[ImportRow],
    known: dict[str, uuid.UUID],
    created: dict[str, uuid.UUID],
    progress: ProgressFn | None,
) -> tuple[int, dict[uuid.UUID, date]]:
    """The parsed rows inserted in batches of 5000 (progress after each); returns how many,
    and the first day each resident was served."""
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
                "room_id": room_id,
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
    return done, served
