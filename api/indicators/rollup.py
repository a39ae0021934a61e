"""The presence rollup: the figures' distinct counts of residents as plain counts.

A year's participants are distinct residents, and counting them over the registrations sorts
a year of rows (0.5 s at 1,000,000 registrations). The table `presence` (api/indicators/
models.py) holds one row per resident, year and level: at a room and activity, at a room
(activity 0), at an activity (room 0) and anywhere (both 0), with the resident's live
registrations per month (m01..m12) and a bitmask of the months that count something. A
period of whole months within a year (a year, a quarter, a month) then counts its
participants as rows whose mask meets the period's: no DISTINCT.

Triggers on registration keep it, in the writing transaction, for every write that moves a
figure: a registration, a correction, a void, an import (COPY on PostgreSQL), and anything
else that inserts, updates or deletes registrations. On PostgreSQL they are statement
triggers over transition tables (one aggregate upsert per statement, however many rows a
COPY brings); on SQLite row triggers. Erasure and retention keep a resident's registrations
(the resident becomes a bare id) and do not move a count; their breakdowns by age band and
postcode area read the resident's row at query time, as the raw queries do.

Only residents are in the rollup. Services add up: a resident's registration counts 1 (a
check constraint), so residents' services are the rollup's month counts, and anonymous
groups' headcounts are summed over their own partial index (ix_registration_live_groups).
"""

from __future__ import annotations

import calendar
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    Table,
    Uuid,
    and_,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from api.base import table
from api.calendar import Period
from api.indicators.models import Presence
from api.residents.models import Resident
from api.rooms.models import Room

MONTHS = tuple(f"m{k:02d}" for k in range(1, 13))
ALL = 0  # room_id or activity_id of the levels across rooms or activities
KEY = ("year", "activity_id", "room_id", "resident_id")
COLUMNS = (*KEY, "months", *MONTHS)
_presence: Table = table(Presence)
_resident: Table = table(Resident)
_LEVELS = "(SELECT 0 AS lv UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)"


def month_mask(period: Period) -> int | None:
    """The months of a period of whole months within one year as a bitmask; None for any
    other period (the rollup cannot answer it)."""
    start, end = period.start, period.end
    if (
        start.year != period.year
        or end.year != period.year
        or start.day != 1
        or end.day != calendar.monthrange(end.year, end.month)[1]
        or end < start
    ):
        return None
    return sum(1 << (m - 1) for m in range(start.month, end.month + 1))


def _part(dialect: str, what: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(EXTRACT({what.upper()} FROM {column}) AS INTEGER)"
    return f"CAST(strftime('{'%Y' if what == 'year' else '%m'}', {column}) AS INTEGER)"


def _bits(month: Any) -> str:
    return " + ".join(
        f"CASE WHEN {month(m)} > 0 THEN {1 << k} ELSE 0 END" for k, m in enumerate(MONTHS)
    )


def _aggregate(dialect: str, deltas: str) -> str:
    """The rollup's rows (with `months`) of `deltas`, a query of (room_id, activity_id,
    resident_id, occurred_on, n), n the change in count; rows that change nothing left out."""
    months = ", ".join(
        f"sum(CASE WHEN mo = {k} THEN n ELSE 0 END) AS {m}" for k, m in enumerate(MONTHS, 1)
    )
    return (
        "SELECT yr AS year, ac AS activity_id, rm AS room_id, resident_id, "
        f"{_bits(lambda m: m)} AS months, {', '.join(MONTHS)} "
        f"FROM (SELECT yr, rm, ac, resident_id, {months} FROM ("
        f"SELECT {_part(dialect, 'year', 'd.occurred_on')} AS yr, "
        f"{_part(dialect, 'month', 'd.occurred_on')} AS mo, "
        "CASE WHEN lv < 2 THEN d.room_id ELSE 0 END AS rm, "
        "CASE WHEN lv IN (0, 2) THEN d.activity_id ELSE 0 END AS ac, d.resident_id, d.n "
        f"FROM ({deltas}) AS d CROSS JOIN {_LEVELS} AS levels"
        ") AS x GROUP BY yr, rm, ac, resident_id) AS agg "
        f"WHERE {' OR '.join(f'{m} <> 0' for m in MONTHS)}"
    )


def _upsert(dialect: str, deltas: str) -> str:
    counts = ", ".join(f"{m} = presence.{m} + excluded.{m}" for m in MONTHS)
    return (
        f"INSERT INTO presence ({', '.join(COLUMNS)}) "
        f"{_aggregate(dialect, deltas)} ORDER BY year, activity_id, room_id, resident_id "
        f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {counts}, "
        f"months = {_bits(lambda m: f'presence.{m} + excluded.{m}')}"
    )


def _live(source: str, n: int) -> str:
    return (
        (
            f"SELECT {source}.room_id AS room_id, {source}.activity_id AS activity_id, "
            f"{source}.resident_id AS resident_id, {source}.occurred_on AS occurred_on, {n} AS n"
        )
        + (f" FROM {source}" if source.endswith("_rows") else "")
        + f" WHERE {source}.voided_at IS NULL AND {source}.resident_id IS NOT NULL"
    )


def _emptied(dialect: str, source: str) -> str:
    """Delete the rows the registrations in `source` (OLD or old_rows) left counting nothing."""
    year = _part(dialect, "year", f"{source}.occurred_on")
    match = (
        f"presence.months = 0 AND presence.resident_id = {source}.resident_id "
        f"AND presence.year = {year} AND presence.room_id IN ({source}.room_id, 0) "
        f"AND presence.activity_id IN ({source}.activity_id, 0)"
    )
    if dialect == "postgresql":
        return f"DELETE FROM presence USING {source} WHERE {match}"
    return f"DELETE FROM presence WHERE {match}"


TRIGGERS = ("insert", "update", "delete")


def create_triggers(dialect: str) -> list[str]:
    """The statements that make the triggers keeping the rollup."""
    if dialect == "postgresql":
        bodies = {
            "insert": [_upsert(dialect, _live("new_rows", 1))],
            "update": [
                _upsert(dialect, f"{_live('old_rows', -1)} UNION ALL {_live('new_rows', 1)}"),
                _emptied(dialect, "old_rows"),
            ],
            "delete": [_upsert(dialect, _live("old_rows", -1)), _emptied(dialect, "old_rows")],
        }
        referencing = {
            "insert": "NEW TABLE AS new_rows",
            "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "delete": "OLD TABLE AS old_rows",
        }
        out = []
        for op in TRIGGERS:
            body = ";\n".join(bodies[op])
            out.append(
                f"CREATE OR REPLACE FUNCTION registration_presence_{op}() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$\nBEGIN\n{body};\nRETURN NULL;\nEND\n$$"
            )
            out.append(
                f"CREATE TRIGGER registration_presence_{op} AFTER {op.upper()} ON registration "
                f"REFERENCING {referencing[op]} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION registration_presence_{op}()"
            )
        out.append(
            "CREATE OR REPLACE FUNCTION registration_presence_truncate() RETURNS trigger "
            "LANGUAGE plpgsql AS $$\nBEGIN\nDELETE FROM presence;\nRETURN NULL;\nEND\n$$"
        )
        out.append(
            "CREATE TRIGGER registration_presence_truncate AFTER TRUNCATE ON registration "
            "FOR EACH STATEMENT EXECUTE FUNCTION registration_presence_truncate()"
        )
        return out
    counted = "room_id, activity_id, occurred_on, resident_id, voided_at"
    new, old = _live("NEW", 1), _live("OLD", -1)
    return [
        "CREATE TRIGGER registration_presence_insert AFTER INSERT ON registration "
        f"WHEN NEW.voided_at IS NULL AND NEW.resident_id IS NOT NULL BEGIN "
        f"{_upsert(dialect, new)}; END",
        f"CREATE TRIGGER registration_presence_update AFTER UPDATE OF {counted} ON registration "
        "BEGIN "
        f"{_upsert(dialect, f'{old} UNION ALL {new}')}; {_emptied(dialect, 'OLD')}; END",
        "CREATE TRIGGER registration_presence_delete AFTER DELETE ON registration "
        "WHEN OLD.voided_at IS NULL AND OLD.resident_id IS NOT NULL BEGIN "
        f"{_upsert(dialect, old)}; {_emptied(dialect, 'OLD')}; END",
    ]


def drop_triggers(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            statement
            for op in (*TRIGGERS, "truncate")
            for statement in (
                f"DROP TRIGGER IF EXISTS registration_presence_{op} ON registration",
                f"DROP FUNCTION IF EXISTS registration_presence_{op}()",
            )
        ]
    return [f"DROP TRIGGER IF EXISTS registration_presence_{op}" for op in TRIGGERS]


def _expected(dialect: str) -> str:
    """The rollup as the registrations make it."""
    return _aggregate(
        dialect,
        "SELECT room_id, activity_id, resident_id, occurred_on, 1 AS n FROM registration "
        "WHERE voided_at IS NULL AND resident_id IS NOT NULL",
    )


def rebuild_statements(dialect: str) -> list[str]:
    return [
        "DELETE FROM presence",
        f"INSERT INTO presence ({', '.join(COLUMNS)}) {_expected(dialect)}",
    ]


def difference_query(dialect: str) -> str:
    """Rows of the rollup that are wrong or missing (`missing`), and rows that should not be
    there or are wrong (`extra`), as (side, year, room_id, activity_id, resident_id, months)."""
    mine = f"SELECT {', '.join(COLUMNS)} FROM presence"
    expected = f"SELECT * FROM ({_expected(dialect)}) AS e"
    return (
        "SELECT 'missing' AS side, year, room_id, activity_id, resident_id, months "
        f"FROM ({expected} EXCEPT {mine}) AS missing "
        f"UNION ALL SELECT 'extra', year, room_id, activity_id, resident_id, months "
        f"FROM ({mine} EXCEPT SELECT * FROM ({expected}) AS e2) AS extra "
        "ORDER BY 2, 3, 4, 5, 1"
    )


def rebuild_sync(conn: Connection) -> int:
    """Remake the rollup from the registrations (migrations, test snapshots); its row count."""
    for statement in rebuild_statements(conn.dialect.name):
        conn.execute(text(statement))
    return int(conn.execute(select(func.count()).select_from(_presence)).scalar_one())


async def rebuild(conn: AsyncConnection) -> int:
    """Remake the rollup from the registrations; its row count. On PostgreSQL writes of
    registrations wait until it commits (readers do not), so none falls between."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("LOCK TABLE registration IN SHARE MODE"))
    for statement in rebuild_statements(conn.dialect.name):
        await conn.execute(text(statement))
    return int((await conn.execute(select(func.count()).select_from(_presence))).scalar_one())


async def differences(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Where the rollup and the registrations disagree; empty when they agree."""
    query = text(difference_query(conn.dialect.name)).columns(
        side=String, year=Integer, room_id=Integer, activity_id=Integer, resident_id=Uuid
    )
    rows = await conn.execute(query)
    return [dict(r._mapping) for r in rows]


# -- the figures, counted from the rollup ----------------------------------------------------

_room: Table = table(Room)


async def covers_every_room(conn: AsyncConnection, room_ids: list[int]) -> bool:
    """Whether these rooms are all there are: then the levels across rooms (room 0) answer
    for them; for fewer rooms, distinct counts across them are counted from their rows."""
    every = set((await conn.execute(select(_room.c.id))).scalars())
    return every <= set(room_ids)


def _in_period(year: int, mask: int) -> Any:
    return and_(_presence.c.year == year, _presence.c.months.bitwise_and(mask) != 0)


async def participants(
    conn: AsyncConnection, year: int, mask: int, room_ids: list[int]
) -> dict[tuple[int | None, int | None], tuple[int, int]]:
    """(room, activity) -> (distinct residents in the months of `mask`, their registrations
    in those months), None for 'all' on either side (as realised() in api/indicators/
    service.py keys them). The registrations are right at each room and activity; across
    rooms of fewer than all rooms they are not needed and are 0."""
    p = _presence.c
    where = _in_period(year, mask)
    count = func.count()
    visits = func.sum(
        sum(
            (p[m] for k, m in enumerate(MONTHS) if mask & (1 << k)),
            start=literal(0),
        )
    )
    if await covers_every_room(conn, room_ids):
        query = (
            select(p.room_id, p.activity_id, count, visits)
            .where(where, p.room_id.in_([*room_ids, ALL]))
            .group_by(p.room_id, p.activity_id)
        )
    else:
        query = union_all(  # type: ignore[assignment]
            select(p.room_id, p.activity_id, count, visits)
            .where(where, p.room_id.in_(room_ids))
            .group_by(p.room_id, p.activity_id),
            select(literal(ALL), p.activity_id, func.count(p.resident_id.distinct()), literal(0))
            .where(where, p.room_id.in_(room_ids))
            .group_by(p.activity_id),
        )
    return {
        (room_id or None, activity_id or None): (int(n), int(v or 0))
        for room_id, activity_id, n, v in await conn.execute(query)
    }


async def groups(
    conn: AsyncConnection, year: int, mask: int, room_ids: list[int], by: dict[str, Any]
) -> list[tuple[int | None, dict[str, Any], int]]:
    """(room or None, {name: group}, distinct residents) per room and across the rooms, for
    each combination of the groups `by` names (expressions over the resident's row): a
    resident falls in one group of each, so sums over a group's values are distinct too."""
    p, r = _presence.c, _resident.c
    names = list(by)
    exprs = [by[n].label(n) for n in names]
    joined = _presence.join(_resident, r.id == p.resident_id)
    where = and_(_in_period(year, mask), p.activity_id == ALL)
    if await covers_every_room(conn, room_ids):
        query = (
            select(p.room_id, *exprs, func.count())
            .select_from(joined)
            .where(where, p.room_id.in_([*room_ids, ALL]))
            .group_by(p.room_id, *exprs)
        )
    else:
        query = union_all(  # type: ignore[assignment]
            select(p.room_id, *exprs, func.count())
            .select_from(joined)
            .where(where, p.room_id.in_(room_ids))
            .group_by(p.room_id, *exprs),
            select(literal(ALL), *exprs, func.count(p.resident_id.distinct()))
            .select_from(joined)
            .where(where, p.room_id.in_(room_ids))
            .group_by(*exprs),
        )
    return [
        (row[0] or None, dict(zip(names, row[1:-1], strict=True)), int(row[-1]))
        for row in await conn.execute(query)
    ]
