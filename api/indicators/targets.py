"""Agreements, performance and outcome: read per room, set per year by the district (every
change audited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import record
from api.base import table
from api.caller import Principal
from api.errors import InvalidInput
from api.indicators.models import Target
from api.indicators.service import UNIQUE_VISITORS
from api.outcomes.models import OutcomeTarget
from api.rooms import service as rooms
from api.schemas import decode_cursor, page
from api.scoping import readable_rooms

_target: Table = table(Target)


async def list_agreements(
    conn: AsyncConnection,
    principal: Principal,
    agreements: Table,
    *,
    year: int | None,
    room: str | None,
    limit: int,
    after: tuple[int, int, str] | None,
) -> list[dict[str, Any]]:
    """Agreements (output or outcome targets) of the rooms whose figures the caller reads."""
    ref = await rooms.reference(conn, room=room)
    room_ids = readable_rooms(principal, [room] if room else [], ref)
    key = (agreements.c.year, agreements.c.room_id, agreements.c.indicator)
    query = select(agreements).where(agreements.c.room_id.in_(room_ids))
    if year is not None:
        query = query.where(agreements.c.year == year)
    if after is not None:
        query = query.where(tuple_(*key) > tuple_(*after))
    rows = await conn.execute(query.order_by(*key).limit(limit + 1))
    return [{**r._mapping, "room": ref.room_slugs[r.room_id]} for r in rows]


async def agreements_page(
    conn: AsyncConnection,
    principal: Principal,
    agreements: Table,
    *,
    year: int | None,
    room: str | None = None,
    limit: int = 1000,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of agreements in the list envelope, for both kinds of targets."""
    after = decode_cursor(cursor, int, int, str)
    rows = await list_agreements(
        conn,
        principal,
        agreements,
        year=year,
        room=room,
        limit=limit,
        after=(after[0], after[1], after[2]) if after else None,
    )
    return page(rows, limit, key=lambda r: [r["year"], r["room_id"], r["indicator"]])


TARGETS = _target


async def store_year(
    conn: AsyncConnection,
    principal: Principal,
    agreements: Table,
    year: int,
    rows: list[dict[str, Any]],
    action: str,
) -> None:
    """The year's agreements become exactly these rows; audited."""
    await conn.execute(delete(agreements).where(agreements.c.year == year))
    if rows:
        await conn.execute(insert(agreements), rows)
    await record(
        conn,
        actor=principal,
        action=action,
        object_type=agreements.name,
        object_id=year,
        details={"count": len(rows)},
    )


async def replace_year(
    conn: AsyncConnection, principal: Principal, year: int, items: list[dict[str, Any]]
) -> int:
    """The year's agreements become exactly these."""
    ref = await rooms.reference(conn)
    units = await rooms.activity_units(conn)
    units[UNIQUE_VISITORS] = "participants"
    errors, rows, seen = [], [], set()
    for i, item in enumerate(items):
        where = f"items.{i}"
        if item["room"] not in ref.rooms:
            errors.append((f"{where}.room", f"unknown room '{item['room']}'"))
            continue
        if item["indicator"] not in units:
            errors.append((f"{where}.indicator", f"not an activity code or {UNIQUE_VISITORS}"))
            continue
        if item["unit"] != units[item["indicator"]]:
            errors.append(
                (f"{where}.unit", f"{item['indicator']} counts {units[item['indicator']]}")
            )
            continue
        key = (item["room"], item["indicator"])
        if key in seen:
            errors.append((where, f"{item['room']} / {item['indicator']} is given twice"))
            continue
        seen.add(key)
        rows.append(
            {
                "year": year,
                "room_id": ref.rooms[item["room"]].id,
                "indicator": item["indicator"],
                "unit": item["unit"],
                "value": item["value"],
            }
        )
    if errors:
        raise InvalidInput(errors[:200])
    await store_year(conn, principal, _target, year, rows, "targets.replace")
    return len(rows)


# the district's outcome agreements: residents moving up a ladder or the matrix, new volunteers
OUTCOME_TARGETS: Table = table(OutcomeTarget)


async def replace_outcome_targets(
    conn: AsyncConnection, principal: Principal, year: int, items: list[dict[str, Any]]
) -> None:
    """The year's outcome agreements become exactly these."""
    ref = await rooms.reference(conn)
    errors, rows, seen = [], [], set()
    for i, item in enumerate(items):
        if item["room"] not in ref.rooms:
            errors.append((f"items.{i}.room", f"unknown room '{item['room']}'"))
        elif (item["room"], item["indicator"]) in seen:
            errors.append((f"items.{i}", f"{item['room']} / {item['indicator']} is given twice"))
        else:
            seen.add((item["room"], item["indicator"]))
            rows.append(
                {
                    "year": year,
                    "room_id": ref.rooms[item["room"]].id,
                    "indicator": item["indicator"],
                    "value": item["value"],
                }
            )
    if errors:
        raise InvalidInput(errors[:200])
    await store_year(conn, principal, OUTCOME_TARGETS, year, rows, "outcome_targets.replace")
