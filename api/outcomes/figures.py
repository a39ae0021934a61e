"""/indicators/outcomes: did the residents the rooms serve move between their first and their
latest measurement in the year?

SQL picks, per resident and instrument (and per matrix domain), the first and the latest
measurement in the year with window functions; only those pairs come back, and the pure
functions below compare and count them. A pair needs two different days: two measurements on
one day are a correction, not a movement. The matrix as a whole compares the sum of the domains
that both its first and its latest measurement score; each domain compares its own first and
latest score. District totals count each resident once, however many rooms serve it.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from api import disclosure
from api.base import table
from api.calendar import Period
from api.caller import DISTRICT_ROLES, Principal
from api.disclosure import MINIMUM, Family, controlled, protect
from api.figures import number
from api.outcomes.models import (
    INSTRUMENTS,
    LADDER,
    ZRM,
    ZRM_DOMAINS,
    Assessment,
    OutcomeTarget,
    Volunteering,
)
from api.reference.labels import label_nl, with_labels
from api.residents.models import ResidentRoom
from api.rooms import service as rooms
from api.scoping import readable_rooms

_assessment: Table = table(Assessment)
_volunteering: Table = table(Volunteering)
_target: Table = table(OutcomeTarget)
_resident_room: Table = table(ResidentRoom)
TARGET_OF = {LADDER: "ladder-up", ZRM: "zrm-up"}
BECAME_VOLUNTEER = "became-volunteer"
MOVEMENT = ("measured", "up", "same", "down")


def zrm_change(first: Mapping[str, int], latest: Mapping[str, int]) -> int | None:
    """Latest minus first, summed over the domains both score; None when they share none."""
    common = first.keys() & latest.keys()
    return sum(latest[d] - first[d] for d in common) if common else None


def tally(changes: Iterable[int | None]) -> dict[str, int]:
    """measured, up, same and down over changes (latest minus first; None: not comparable)."""
    counts = dict.fromkeys(MOVEMENT, 0)
    for change in changes:
        if change is not None:
            counts["measured"] += 1
            counts["up" if change > 0 else "down" if change < 0 else "same"] += 1
    return counts


@dataclass
class Pairs:
    # by instrument or matrix domain, then resident: latest minus first
    changes: dict[str, dict[uuid.UUID, int | None]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    # by instrument, then resident: days between the first and the latest measurement
    days: dict[str, dict[uuid.UUID, int]] = field(default_factory=lambda: defaultdict(dict))
    # the rooms asked for that serve each measured resident
    rooms: dict[uuid.UUID, set[int]] = field(default_factory=lambda: defaultdict(set))


def _ends(source: Any, *partition: Any) -> tuple[Any, Any]:
    """Row numbers from the first and from the latest measurement within the partition."""
    order = (source.c.assessed_on, source.c.created_at, source.c.id)
    return (
        func.row_number().over(partition_by=partition, order_by=order).label("nth"),
        func.row_number()
        .over(partition_by=partition, order_by=[c.desc() for c in order])
        .label("nth_last"),
    )


async def first_and_latest(conn: AsyncConnection, period: Period, room_ids: list[int]) -> Pairs:
    in_year = _assessment.c.assessed_on.between(period.start, period.end)
    measured = (
        select(_assessment)
        .where(
            in_year,
            exists().where(
                _resident_room.c.resident_id == _assessment.c.resident_id,
                _resident_room.c.room_id.in_(room_ids),
            ),
        )
        .cte("measured")
    )
    m, pairs = measured.c, Pairs()
    per_instrument = (m.resident_id, m.instrument)
    whole = select(
        m.resident_id,
        m.instrument,
        m.assessed_on,
        m.rung,
        m.scores,
        *_ends(measured, *per_instrument),
        func.min(m.assessed_on).over(partition_by=per_instrument).label("first_on"),
        func.max(m.assessed_on).over(partition_by=per_instrument).label("latest_on"),
    ).subquery()
    ends: dict[tuple[uuid.UUID, str], dict[str, Any]] = defaultdict(dict)
    for row in await conn.execute(
        select(whole).where(
            or_(whole.c.nth == 1, whole.c.nth_last == 1), whole.c.first_on < whole.c.latest_on
        )
    ):
        ends[(row.resident_id, row.instrument)]["first" if row.nth == 1 else "latest"] = row
    for (resident_id, instrument), end in ends.items():
        first, latest = end["first"], end["latest"]
        pairs.changes[instrument][resident_id] = (
            latest.rung - first.rung
            if instrument == LADDER
            else zrm_change(first.scores or {}, latest.scores or {})
        )
        pairs.days[instrument][resident_id] = (latest.assessed_on - first.assessed_on).days

    scored = union_all(
        *(
            select(
                m.resident_id,
                literal(domain).label("domain"),
                m.assessed_on,
                m.created_at,
                m.id,
                m.scores[domain].as_integer().label("score"),
            ).where(m.instrument == ZRM, m.scores[domain].as_integer().is_not(None))
            for domain in ZRM_DOMAINS
        )
    ).subquery()
    s = scored.c
    ranked = select(
        s.resident_id, s.domain, s.assessed_on, s.score, *_ends(scored, s.resident_id, s.domain)
    ).subquery()
    r = ranked.c
    for resident_id, domain, first_score, latest_score in await conn.execute(
        select(
            r.resident_id,
            r.domain,
            func.max(case((r.nth == 1, r.score))),
            func.max(case((r.nth_last == 1, r.score))),
        )
        .group_by(r.resident_id, r.domain)
        .having(func.min(r.assessed_on) < func.max(r.assessed_on))
    ):
        pairs.changes[domain][resident_id] = latest_score - first_score

    paired = {resident for by_resident in pairs.changes.values() for resident in by_resident}
    for resident_id, room_id in await conn.execute(
        select(_resident_room.c.resident_id, _resident_room.c.room_id).where(
            _resident_room.c.room_id.in_(room_ids),
            _resident_room.c.resident_id.in_(select(_assessment.c.resident_id).where(in_year)),
        )
    ):
        if resident_id in paired:
            pairs.rooms[resident_id].add(room_id)
    return pairs


async def _became_volunteer(
    conn: AsyncConnection, period: Period, room_ids: list[int]
) -> dict[int | None, int]:
    """Residents whose volunteering began in the period, per room and (None) across them."""
    return await _volunteers(
        conn,
        and_(
            _volunteering.c.since.between(period.start, period.end),
            _volunteering.c.room_id.in_(room_ids),
        ),
    )


async def _volunteers(conn: AsyncConnection, where: Any) -> dict[int | None, int]:
    people = func.count(_volunteering.c.resident_id.distinct())
    by_room = select(_volunteering.c.room_id, people).where(where).group_by(_volunteering.c.room_id)
    counts: dict[int | None, int] = dict((await conn.execute(by_room)).all())
    counts[None] = (await conn.execute(select(people).where(where))).scalar_one()
    return counts


def _attainment(realised: int | None, target: float | None) -> float | None:
    return round(realised / target, 3) if target and realised is not None else None


COUNTS = ["up", "same", "down"]


def _movements(
    changes: Mapping[uuid.UUID, int | None], served: Mapping[int | None, set[uuid.UUID]]
) -> dict[int | None, dict[str, int]]:
    return {
        row: tally(change for resident, change in changes.items() if resident in who)
        for row, who in served.items()
    }


def _family(room_ids: list[int], counts: dict[int | None, dict[str, int]]) -> Family:
    """measured per room and in the district as the row totals; up, same and down."""
    return protect(
        Family(
            rooms=room_ids,
            totals={row: c["measured"] for row, c in counts.items()},
            tables={
                "movement": disclosure.Table(
                    COUNTS, {(row, k): c[k] for row, c in counts.items() for k in COUNTS}
                )
            },
        )
    )


def _shown(family: Family | None, counts: dict[str, int], row: int | None) -> dict[str, Any]:
    if family is None:
        return dict(counts)
    return {
        "measured": family.total(row),
        **{k: family.cell("movement", row, k) for k in COUNTS},
    }


async def outcome_figures(
    conn: AsyncConnection, principal: Principal, period: Period, wanted_rooms: list[str]
) -> dict[str, Any]:
    ref = await rooms.reference(conn)
    shown_rooms = readable_rooms(principal, wanted_rooms, ref)
    district = principal.role in DISTRICT_ROLES
    # the district roles see the whole district, so that no two answers subtract
    room_ids = readable_rooms(principal, [], ref) if district else shown_rooms
    pairs = await first_and_latest(conn, period, room_ids)
    volunteers = await _became_volunteer(conn, period, room_ids)
    agreed: dict[tuple[int | None, str], int] = {}
    for room_id, indicator, value in await conn.execute(
        select(_target.c.room_id, _target.c.indicator, _target.c.value).where(
            _target.c.year == period.year, _target.c.room_id.in_(room_ids)
        )
    ):
        agreed[(room_id, indicator)] = value
        agreed[(None, indicator)] = agreed.get((None, indicator), 0) + value
    # a quarter's or a month's target is the year's pro rata, as in performance
    targets = {k: number(v * period.share_of_year) for k, v in agreed.items()}
    rows: list[int | None] = [*room_ids, None]
    served = {row: {r for r, by in pairs.rooms.items() if row is None or row in by} for row in rows}
    counts = {
        name: _movements(pairs.changes[name], served) for name in [*INSTRUMENTS, *ZRM_DOMAINS]
    }
    became_counts = {row: volunteers.get(row, 0) for row in rows}
    families: dict[str, Family] | None = None
    if district:
        families = {name: _family(room_ids, c) for name, c in counts.items()}
        families[BECAME_VOLUNTEER] = protect(Family(rooms=room_ids, totals=became_counts))

    def family(name: str) -> Family | None:
        return None if families is None else families[name]

    def figures(room_id: int | None) -> dict[str, Any]:
        instruments = []
        for instrument in INSTRUMENTS:
            changes = pairs.changes[instrument]
            movement = _shown(family(instrument), counts[instrument][room_id], room_id)
            who = served[room_id]
            days = [
                d for r, d in pairs.days[instrument].items() if r in who and changes[r] is not None
            ]
            target = targets.get((room_id, TARGET_OF[instrument]))
            domains = ZRM_DOMAINS if instrument == ZRM else ()
            instruments.append(
                {
                    "instrument": instrument,
                    **movement,
                    # a median of fewer than 5 people is about those people
                    "median_days_between": round(statistics.median(days), 1)
                    if days
                    and movement["measured"] is not None
                    and (families is None or len(days) >= MINIMUM)
                    else None,
                    "target": target,
                    "attainment": _attainment(movement["up"], target),
                    "domains": [
                        {
                            "domain": d,
                            **_shown(family(d), counts[d][room_id], room_id),
                        }
                        for d in domains
                    ],
                }
            )
        became = (
            became_counts[room_id]
            if families is None
            else families[BECAME_VOLUNTEER].total(room_id)
        )
        target = targets.get((room_id, BECAME_VOLUNTEER))
        return {
            "instruments": instruments,
            "became_volunteer": became,
            "became_volunteer_target": target,
            "became_volunteer_attainment": _attainment(became, target),
        }

    return with_labels(
        {
            "year": period.year,
            "period": {"start": period.start, "end": period.end},
            "suppressed": district,
            "disclosure_control": controlled(None if families is None else families.values()),
            "rooms": [{"room": ref.room_slugs[r], **figures(r)} for r in shown_rooms],
            "totals": figures(None),
        }
    )


OUTCOMES_HEADER = [
    "jaar",
    "kamer",
    "indicator",
    "domein",
    "gemeten",
    "omhoog",
    "gelijk",
    "omlaag",
    "mediaan dagen tussen metingen",
    "doel",
    "gerealiseerd",
    "realisatiegraad",
    "kamernaam",
    "omschrijving",
]


def outcome_rows(data: dict[str, Any]) -> Iterator[list[Any]]:
    """A line per instrument, per matrix domain and for new volunteers, per room and in total;
    `gerealiseerd` is the figure the target counts (residents up, new volunteers)."""
    year = data["year"]
    for room, f in [*((r["room"], r) for r in data["rooms"]), ("totaal", data["totals"])]:
        name = label_nl(room)
        for i in f["instruments"]:
            counts = [i[k] for k in MOVEMENT]
            extra = [i["median_days_between"], i["target"], i["up"], i["attainment"]]
            yield [year, room, i["instrument"], None, *counts, *extra, name, i["label_nl"]]
            for d in i["domains"]:
                counts = [d[k] for k in MOVEMENT]
                blank = [None] * 4
                yield [
                    year,
                    room,
                    i["instrument"],
                    d["domain"],
                    *counts,
                    *blank,
                    name,
                    d["label_nl"],
                ]
        realised = [f["became_volunteer_target"], f["became_volunteer"]]
        yield [
            year,
            room,
            BECAME_VOLUNTEER,
            *[None] * 6,
            *realised,
            f["became_volunteer_attainment"],
            name,
            label_nl(BECAME_VOLUNTEER),
        ]


async def active_volunteers(
    conn: AsyncConnection, period: Period, room_ids: list[int]
) -> dict[int | None, int]:
    """Residents volunteering at some time in the period, per room and (None) across them."""
    return await _volunteers(
        conn,
        and_(
            _volunteering.c.since <= period.end,
            or_(_volunteering.c.until.is_(None), _volunteering.c.until >= period.start),
            _volunteering.c.room_id.in_(room_ids),
        ),
    )
