"""Targets against realised figures, counted by SQL aggregates over live registrations.

Counting rules (the contract's): services add up headcounts; participants and unique
visitors are distinct residents; district totals of distinct counts are distinct across
the rooms, with the plain sum of the rooms beside them. Voided registrations never count;
erased residents still do (their registrations keep an anonymous id).

Where they are counted: for a year, a quarter or a month, participants (and the breakdowns
by age band and postcode area) from the presence rollup (api/indicators/rollup.py), services
summed over the registrations; for any other period, or with BWK_FIGURES_FROM_ROLLUP=false,
everything over the registrations (`realised_raw`, `breakdown_raw`). Both give the same
figures: tests/indicators/test_rollup.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, case, func, literal, null, select, text, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from api import disclosure
from api.base import table
from api.calendar import Period, today
from api.caller import DISTRICT_ROLES, Principal
from api.db import FIGURES_FROM_ROLLUP
from api.disclosure import Family, controlled, protect
from api.figures import number
from api.indicators import rollup
from api.indicators.models import Target
from api.reference.labels import with_labels
from api.registrations.models import Registration
from api.residents.models import Resident
from api.rooms import service as rooms
from api.scoping import readable_rooms

UNIQUE_VISITORS = "unique-visitors"
_reg: Table = table(Registration)
_target: Table = table(Target)
_resident: Table = table(Resident)


def from_rollup(conn: AsyncConnection) -> bool:
    """Whether the figures come from the rollup (BWK_FIGURES_FROM_ROLLUP, on by default, set
    on the engine); off, everything is counted over the registrations."""
    sync = conn.sync_connection
    return sync is None or bool(sync.get_execution_options().get(FIGURES_FROM_ROLLUP, True))


def _live(period: Period, room_ids: list[int]) -> Any:
    return and_(
        _reg.c.voided_at.is_(None),
        _reg.c.occurred_on >= period.start,
        _reg.c.occurred_on <= period.end,
        _reg.c.room_id.in_(room_ids),
    )


async def realised(
    conn: AsyncConnection, period: Period, room_ids: list[int], *, raw: bool = False
) -> dict[tuple[int | None, int | None], tuple[int, int]]:
    """(room, activity) -> (services, participants), with None for 'all' on either side:
    (room, None) is a room's unique visitors, (None, activity) and (None, None) are
    distinct across the rooms. For a period of whole months both from the rollup
    (api/indicators/rollup.py): participants as its rows, residents' services as its month
    counts, anonymous groups' headcounts summed over the registrations; `raw`, or any
    other period: both counted over the registrations."""
    mask = rollup.month_mask(period)
    if raw or mask is None or not from_rollup(conn):
        return await realised_raw(conn, period, room_ids)
    # the district's total is there even without registrations, as in the raw queries
    services: dict[tuple[int | None, int | None], int] = defaultdict(int, {(None, None): 0})
    people = await rollup.participants(conn, period.year, mask, room_ids)
    # residents' services: their registrations per room and activity, from the rollup
    cells = [
        (room_id, activity_id, visits)
        for (room_id, activity_id), (_, visits) in people.items()
        if room_id is not None and activity_id is not None
    ]
    # anonymous groups' headcounts, over their partial index
    groups = await conn.execute(
        select(_reg.c.room_id, _reg.c.activity_id, func.sum(_reg.c.headcount))
        .where(_live(period, room_ids), _reg.c.resident_id.is_(None))
        .group_by(_reg.c.room_id, _reg.c.activity_id)
    )
    for room_id, activity_id, svc in [*cells, *groups]:
        for key in ((room_id, activity_id), (room_id, None), (None, activity_id), (None, None)):
            services[key] += int(svc)
    return {key: (svc, people.get(key, (0, 0))[0]) for key, svc in services.items()}


async def realised_raw(
    conn: AsyncConnection, period: Period, room_ids: list[int]
) -> dict[tuple[int | None, int | None], tuple[int, int]]:
    """realised() counted over the registrations: one pass on PostgreSQL (GROUPING SETS),
    four on SQLite."""
    live = _live(period, room_ids)
    services = func.coalesce(func.sum(_reg.c.headcount), 0)
    participants = func.count(_reg.c.resident_id.distinct())
    if conn.dialect.name == "postgresql":
        query = (
            select(
                _reg.c.room_id,
                _reg.c.activity_id,
                services,
                participants,
                func.grouping(_reg.c.room_id),
                func.grouping(_reg.c.activity_id),
            )
            .where(live)
            .group_by(
                func.grouping_sets(
                    tuple_(_reg.c.room_id, _reg.c.activity_id),
                    tuple_(_reg.c.room_id),
                    tuple_(_reg.c.activity_id),
                    text("()"),
                )
            )
        )
    else:
        parts = []
        for by_room, by_activity in ((1, 1), (1, 0), (0, 1), (0, 0)):
            room = _reg.c.room_id if by_room else null()
            activity = _reg.c.activity_id if by_activity else null()
            keys = [
                c for c, on in ((_reg.c.room_id, by_room), (_reg.c.activity_id, by_activity)) if on
            ]
            parts.append(
                select(
                    room,
                    activity,
                    services,
                    participants,
                    literal(1 - by_room),
                    literal(1 - by_activity),
                )
                .where(live)
                .group_by(*keys)
            )
        query = union_all(*parts)  # type: ignore[assignment]
    out: dict[tuple[int | None, int | None], tuple[int, int]] = {}
    for room_id, activity_id, svc, people, all_rooms, all_activities in await conn.execute(query):
        key = (None if all_rooms else room_id, None if all_activities else activity_id)
        out[key] = (int(svc), int(people))
    return out


async def targets(
    conn: AsyncConnection, year: int, room_ids: list[int]
) -> dict[tuple[int, str], tuple[str, int]]:
    rows = await conn.execute(
        select(_target.c.room_id, _target.c.indicator, _target.c.unit, _target.c.value).where(
            _target.c.year == year, _target.c.room_id.in_(room_ids)
        )
    )
    return {(r.room_id, r.indicator): (r.unit, r.value) for r in rows}


UnitOf = Callable[[list[int], str], str]
"""The unit an activity counts in for some rooms (see `_unit`)."""


def _unit(agreed: dict[tuple[int, str], tuple[str, int]], units: dict[str, str]) -> UnitOf:
    def unit(room_ids: list[int], indicator: str) -> str:
        """The unit of the first of these rooms with an agreement, else the activity's."""
        return next(
            (agreed[(r, indicator)][0] for r in room_ids if (r, indicator) in agreed),
            units[indicator],
        )

    return unit


async def performance(
    conn: AsyncConnection, principal: Principal, period: Period, wanted_rooms: list[str]
) -> dict[str, Any]:
    """Agreed against realised per room and indicator, and for the rooms together (the
    district roles' answer disclosure-controlled)."""
    ref = await rooms.reference(conn)
    shown_rooms = readable_rooms(principal, wanted_rooms, ref)
    district = principal.role in DISTRICT_ROLES
    # the district roles see the whole district, so that no two answers subtract
    room_ids = readable_rooms(principal, [], ref) if district else shown_rooms
    figures = await realised(conn, period, room_ids)
    agreed = await targets(conn, period.year, room_ids)
    units = await rooms.activity_units(conn)
    indicators = [*units, UNIQUE_VISITORS]
    units[UNIQUE_VISITORS] = "participants"
    unit_of = _unit(agreed, units)
    family = (
        await visitors(conn, period, room_ids, ref, figures=figures, unit_of=unit_of)
        if district
        else None
    )
    entries = _Entries(family, period.share_of_year, period.elapsed_share(today()))
    sums = _DistrictSums()
    per_room = []
    for room_id in room_ids:
        items = [
            _room_entry(room_id, i, agreed, units, ref, figures, entries, sums) for i in indicators
        ]
        if room_id in shown_rooms:
            per_room.append({"room": ref.room_slugs[room_id], "indicators": items})
    totals = [_total_entry(room_ids, i, unit_of, ref, figures, entries, sums) for i in indicators]
    return with_labels(
        {
            "year": period.year,
            "period": {"start": period.start, "end": period.end},
            "disclosure_control": controlled(None if family is None else [family]),
            "rooms": per_room,
            "totals": {"indicators": totals},
        }
    )


Figures = dict[tuple[int | None, int | None], tuple[int, int]]


@dataclass
class _Entries:
    """An indicator's entry in a period: the target pro rata, and the realised figure as the
    caller may see it (the district roles: disclosure-controlled by `family`)."""

    family: Family | None
    share: float
    elapsed: float

    def shown(self, row: int | None, indicator: str, unit: str, value: int) -> int | None:
        if self.family is None:
            return value
        if indicator == UNIQUE_VISITORS:
            return self.family.total(row)
        return self.family.cell(unit, row, indicator)

    def entry(
        self, indicator: str, unit: str, target: float | None, value: int | None
    ) -> dict[str, Any]:
        period_target = None if target is None else target * self.share
        return {
            "indicator": indicator,
            "unit": unit,
            "target": number(period_target),
            "realised": value,
            "attainment": number(value / period_target, 3)
            if period_target and value is not None
            else None,
            "expected_to_date": number(
                None if period_target is None else period_target * self.elapsed
            ),
        }


@dataclass
class _DistrictSums:
    """The rooms' figures and targets summed per indicator, for the totals."""

    realised: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    targets: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    has_target: set[str] = field(default_factory=set)
    hidden: set[str] = field(default_factory=set)  # a room's figure is hidden: the sum would tell


def _room_entry(
    room_id: int,
    indicator: str,
    agreed: dict[tuple[int, str], tuple[str, int]],
    units: dict[str, str],
    ref: rooms.Reference,
    figures: Figures,
    entries: _Entries,
    sums: _DistrictSums,
) -> dict[str, Any]:
    unit, target = agreed.get((room_id, indicator), (units[indicator], None))
    activity = None if indicator == UNIQUE_VISITORS else ref.activities[indicator]
    services, people = figures.get((room_id, activity), (0, 0))
    value = services if unit == "services" else people
    sums.realised[indicator] += value
    if target is not None:
        sums.targets[indicator] += target
        sums.has_target.add(indicator)
    realised_here = entries.shown(room_id, indicator, unit, value)
    if realised_here is None:
        sums.hidden.add(indicator)
    return entries.entry(indicator, unit, target, realised_here)


def _total_entry(
    room_ids: list[int],
    indicator: str,
    unit_of: UnitOf,
    ref: rooms.Reference,
    figures: Figures,
    entries: _Entries,
    sums: _DistrictSums,
) -> dict[str, Any]:
    unit = unit_of(room_ids, indicator)
    activity = None if indicator == UNIQUE_VISITORS else ref.activities[indicator]
    services, people = figures.get((None, activity), (0, 0))
    value = services if unit == "services" else people
    item = entries.entry(
        indicator,
        unit,
        sums.targets[indicator] if indicator in sums.has_target else None,
        entries.shown(None, indicator, unit, value),
    )
    item["realised_sum_of_rooms"] = None if indicator in sums.hidden else sums.realised[indicator]
    return item


AGE_BANDS = ["0-17", "18-26", "27-44", "45-66", "67+"]
UNKNOWN = "unknown"
BREAKDOWNS = ("age-band", "postcode-area")


def _age_band(year: int) -> Any:
    age = year - _resident.c.birth_year
    from_birth_year = case(
        (age < 18, "0-17"),
        (age < 27, "18-26"),
        (age < 45, "27-44"),
        (age < 67, "45-66"),
        else_="67+",
    )
    return case(
        (_resident.c.birth_year.is_not(None), from_birth_year),
        (_resident.c.age_band.is_not(None), _resident.c.age_band),
        else_=UNKNOWN,
    )


def _group(by: str, year: int) -> Any:
    if by == "age-band":
        return _age_band(year)
    return func.coalesce(_resident.c.postcode_area, UNKNOWN)


def _groups(by: str, counts: dict[tuple[int | None, str | None], int]) -> list[str]:
    if by == "age-band":
        return [*AGE_BANDS, UNKNOWN]
    return sorted({g for (_, g) in counts if g is not None})


async def breakdowns(
    conn: AsyncConnection,
    period: Period,
    room_ids: list[int],
    bys: tuple[str, ...] = BREAKDOWNS,
    *,
    raw: bool = False,
) -> dict[str, tuple[list[str], dict[tuple[int | None, str | None], int]]]:
    """breakdown() for each of `bys`: from the rollup in one query for a period of whole
    months; `raw`, or any other period, over the registrations, one query each."""
    mask = rollup.month_mask(period)
    if raw or mask is None or not from_rollup(conn):
        return {by: await breakdown_raw(conn, period, room_ids, by) for by in bys}
    rows = await rollup.groups(
        conn, period.year, mask, room_ids, {by: _group(by, period.year) for by in bys}
    )
    out = {}
    for by in bys:
        counts: dict[tuple[int | None, str | None], int] = defaultdict(int, {(None, None): 0})
        for room_id, group, n in rows:
            counts[(room_id, group[by])] += n
            counts[(room_id, None)] += n
        out[by] = (_groups(by, counts), dict(counts))
    return out


async def breakdown(
    conn: AsyncConnection, period: Period, room_ids: list[int], by: str, *, raw: bool = False
) -> tuple[list[str], dict[tuple[int | None, str | None], int]]:
    """(the groups, distinct participants per (room, group)), with None for 'all' on either
    side: (room, None) is a room's unique visitors, (None, group) distinct across rooms."""
    return (await breakdowns(conn, period, room_ids, (by,), raw=raw))[by]


async def breakdown_raw(
    conn: AsyncConnection, period: Period, room_ids: list[int], by: str
) -> tuple[list[str], dict[tuple[int | None, str | None], int]]:
    """breakdown() counted over the registrations."""
    group = _group(by, period.year).label("grp")
    live = _live(period, room_ids)
    people = func.count(_reg.c.resident_id.distinct())
    joined = _reg.join(_resident, _resident.c.id == _reg.c.resident_id)
    parts = []
    for by_room, by_group in ((1, 1), (1, 0), (0, 1), (0, 0)):
        parts.append(
            select(
                _reg.c.room_id if by_room else null(),
                group if by_group else null(),
                people,
                literal(1 - by_room),
                literal(1 - by_group),
            )
            .select_from(joined)
            .where(live)
            .group_by(*[c for c, on in ((_reg.c.room_id, by_room), (group, by_group)) if on])
        )
    counts: dict[tuple[int | None, str | None], int] = {}
    for room_id, grp, n, all_rooms, all_groups in await conn.execute(union_all(*parts)):
        counts[(None if all_rooms else room_id, None if all_groups else grp)] = int(n)
    return _groups(by, counts), counts


async def visitors(
    conn: AsyncConnection,
    period: Period,
    room_ids: list[int],
    ref: rooms.Reference,
    *,
    figures: dict[tuple[int | None, int | None], tuple[int, int]] | None = None,
    unit_of: UnitOf | None = None,
    tables: dict[str, tuple[list[str], dict[tuple[int | None, str | None], int]]] | None = None,
) -> Family:
    """Every count of a period's visitors the district roles see, protected together: the
    rooms' unique visitors, participants by age band and postcode area, and per activity
    participants or services (as each room's agreement counts them)."""
    if figures is None:
        figures = await realised(conn, period, room_ids)
    if unit_of is None:
        units = await rooms.activity_units(conn)
        unit_of = _unit(await targets(conn, period.year, room_ids), units)
    rows: list[int | None] = [*room_ids, None]
    family = Family(rooms=room_ids, totals={r: figures.get((r, None), (0, 0))[1] for r in rows})
    if tables is None:
        tables = await breakdowns(conn, period, room_ids)
    for by in BREAKDOWNS:
        groups, counts = tables[by]
        family.tables[by] = disclosure.Table(
            groups, {(r, g): counts.get((r, g), 0) for r in rows for g in groups}
        )
    activities = list(ref.activities)
    for unit, index in (("services", 0), ("participants", 1)):
        cells, absent = {}, set()
        for r in rows:
            for code in activities:
                cells[(r, code)] = figures.get((r, ref.activities[code]), (0, 0))[index]
                if unit_of(room_ids if r is None else [r], code) != unit:
                    absent.add((r, code))
        family.tables[unit] = disclosure.Table(
            activities, cells, people=unit == "participants", adds_up=False, absent=absent
        )
    return protect(family)


async def participants_by(
    conn: AsyncConnection,
    principal: Principal,
    period: Period,
    wanted_rooms: list[str],
    by: str,
) -> dict[str, Any]:
    """Distinct participants per room and across rooms, by age band or postcode area."""
    ref = await rooms.reference(conn)
    shown_rooms = readable_rooms(principal, wanted_rooms, ref)
    district = principal.role in DISTRICT_ROLES
    room_ids = readable_rooms(principal, [], ref) if district else shown_rooms
    tables = await breakdowns(conn, period, room_ids, BREAKDOWNS if district else (by,))
    family = await visitors(conn, period, room_ids, ref, tables=tables) if district else None
    groups, counts = tables[by]

    def row(room_id: int | None) -> dict[str, Any]:
        if family is None:
            cells: dict[str, int | None] = {g: counts.get((room_id, g), 0) for g in groups}
            total: int | None = counts.get((room_id, None), 0)
        else:
            cells = {g: family.cell(by, room_id, g) for g in groups}
            total = family.total(room_id)
        return {
            "total": total,
            "cells": [{"group": g, "participants": cells[g]} for g in groups],
        }

    return with_labels(
        {
            "year": period.year,
            "period": {"start": period.start, "end": period.end},
            "by": by,
            "suppressed": district,
            "disclosure_control": controlled(None if family is None else [family]),
            "rooms": [{"room": ref.room_slugs[r], **row(r)} for r in shown_rooms],
            "district": row(None),
        }
    )
