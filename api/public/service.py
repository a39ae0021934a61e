"""The assignments in the open: what each room and chain partner is there for, and what the
rooms realised so far, for anyone (report advice 4.2.3). It reads the directory, the targets,
the subsidy grants and the realised figures as the district sees them (small counts hidden):
never a person, an account or a referral."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import record
from api.base import table, utcnow
from api.budgets import service as budgets
from api.calendar import period, today
from api.caller import SYSTEM, Principal
from api.errors import InvalidInput, NotFound
from api.indicators import service as indicators
from api.public.models import PartnerAssignment
from api.reference.labels import label_nl
from api.rooms import service as rooms
from api.rooms.models import Partner

_assignment: Table = table(PartnerAssignment)
_partner: Table = table(Partner)

# The figures are the district's: a stadsdeel reader, so that small counts are hidden exactly
# as in the stadsdeel's own answers (the same numbers, never a finer one).
DISTRICT_READER = replace(
    SYSTEM, role="stadsdeel", name="public", display_name="public assignments"
)


def _quarters_to_date(year: int) -> list[int]:
    """The quarters of the year that have begun (all four of a past year)."""
    now = today()
    return [q for q in range(1, 5) if period(year, q).start <= now]


async def assignments(conn: AsyncConnection, year: int, wanted: list[str]) -> dict[str, Any]:
    ref = await rooms.reference(conn)
    unknown = [slug for slug in wanted if slug not in ref.rooms]
    if unknown:
        raise InvalidInput([("room", f"unknown room '{s[:60]}'") for s in unknown])
    listed = await rooms.list_rooms(conn, limit=1000, after=None)
    shown = [r for r in listed if not wanted or r["slug"] in wanted]
    agreed = await indicators.targets(conn, year, [r["id"] for r in listed])
    units = await rooms.activity_units(conn)
    money = await budgets.year_money(conn, year)

    quarters = []
    for q in _quarters_to_date(year):
        figures = await indicators.performance(
            conn, DISTRICT_READER, period(year, q), [r["slug"] for r in shown]
        )
        quarters.append((q, figures))

    def realised(indicators_: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "indicator": f["indicator"],
                "label_nl": label_nl(f["indicator"]),
                "unit": f["unit"],
                "target": f["target"],
                "realised": f["realised"],
                "attainment": f["attainment"],
            }
            for f in indicators_
        ]

    def quarter_rows(pick: Any) -> list[dict[str, Any]]:
        return [
            {
                "quarter": q,
                "period": figures["period"],
                "disclosure_control": figures["disclosure_control"],
                "indicators": realised(pick(figures)),
            }
            for q, figures in quarters
        ]

    def room_quarters(slug: str) -> list[dict[str, Any]]:
        return quarter_rows(
            lambda figures: next(r["indicators"] for r in figures["rooms"] if r["room"] == slug)
        )

    def subsidies(room_id: int) -> list[dict[str, Any]]:
        return [
            {
                "grantor": g.grantor,
                "kind": g.kind,
                "amount": budgets.euros(g.cents),
                "joint": len(g.room_ids) > 1,
                "rooms": [
                    {"room": ref.room_slugs[r], "label_nl": label_nl(ref.room_slugs[r])}
                    for r in g.room_ids
                ],
            }
            for g in money.grants
            if room_id in g.room_ids
        ]

    def activities(room: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for code in room["activities"]:
            unit, value = agreed.get((room["id"], code), (units[code], None))
            out.append(
                {"activity": code, "label_nl": label_nl(code), "unit": unit, "target": value}
            )
        return out

    return {
        "year": year,
        "disclosure_control": {
            "applied": True,
            "note": "The realised figures are the district's, per quarter: counts of 1 to 4 "
            "people, and any that would let one be worked out, are hidden (null). Each "
            "quarter's disclosureControl says what it hid.",
        },
        "rooms": [
            {
                "room": r["slug"],
                "label_nl": r["name"],
                "neighbourhood": r["neighbourhood"],
                "address": r["address"],
                "postcode": r["postcode"],
                "languages": r["languages"],
                "opening_hours": r["opening_hours"],
                "activities": activities(r),
                "subsidies": subsidies(r["id"]),
                "quarters": room_quarters(r["slug"]),
            }
            for r in shown
        ],
        "district": {
            "quarters": quarter_rows(lambda figures: figures["totals"]["indicators"]),
        },
        "partners": await partner_assignments(conn),
    }


async def partner_assignments(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(
            _partner.c.code,
            _partner.c.name,
            _partner.c.kind,
            _assignment.c.text,
            _assignment.c.activities,
            _assignment.c.updated_at,
        )
        .outerjoin(_assignment, _assignment.c.partner_id == _partner.c.id)
        .order_by(_partner.c.code)
    )
    return [
        {
            "partner": r.code,
            "label_nl": r.name,
            "kind": r.kind,
            "assignment": r.text,
            "activities": [{"activity": a, "label_nl": label_nl(a)} for a in r.activities or []],
            "updated_at": r.updated_at,
        }
        for r in rows
    ]


async def set_assignment(
    conn: AsyncConnection, principal: Principal, code: str, text: str, activities: list[str]
) -> dict[str, Any]:
    partner_id = await rooms.partner_id(conn, code)
    if partner_id is None:
        raise NotFound(f"There is no partner '{code[:40]}'.")
    known = set((await rooms.reference(conn)).activities)
    unknown = [
        (f"activities.{i}", f"unknown activity '{a[:40]}'")
        for i, a in enumerate(activities)
        if a not in known
    ]
    if unknown:
        raise InvalidInput(unknown)
    await conn.execute(delete(_assignment).where(_assignment.c.partner_id == partner_id))
    await conn.execute(
        insert(_assignment).values(
            partner_id=partner_id,
            text=text,
            activities=list(dict.fromkeys(activities)),
            updated_at=utcnow(),
        )
    )
    await record(
        conn,
        actor=principal,
        action="partner.assignment",
        object_type="partner",
        object_id=code,
        details={"activities": len(activities)},
    )
    return next(p for p in await partner_assignments(conn) if p["partner"] == code)
