"""A year's money, set by the district (the year becomes exactly what is sent; audited) and
read by the budget and efficiency figures. Amounts are whole cents inside, Decimal outside."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import record
from api.base import table
from api.budgets.models import BudgetLine, StaffAllocation, SubsidyGrant, SubsidyGrantRoom
from api.budgets.schemas import BudgetSet, GrantIn
from api.calendar import today
from api.caller import Principal
from api.errors import InvalidInput, NotFound
from api.rooms import service as rooms

_line: Table = table(BudgetLine)
_grant: Table = table(SubsidyGrant)
_grant_room: Table = table(SubsidyGrantRoom)
_staff: Table = table(StaffAllocation)

CENT = Decimal("0.01")


def euros(cents: int) -> Decimal:
    return (Decimal(cents) * CENT).quantize(CENT)


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


@dataclass(frozen=True)
class Line:
    kind: str  # income | cost
    category: str | None
    name: str
    room_id: int | None
    cents: int


@dataclass(frozen=True)
class GrantRow:
    grantor: str
    kind: str
    cents: int
    room_ids: tuple[int, ...]


@dataclass
class YearMoney:
    """Everything the budget of one year holds."""

    year: int
    lines: list[Line] = field(default_factory=list)
    grants: list[GrantRow] = field(default_factory=list)
    staff: list[tuple[int, str, int]] = field(default_factory=list)  # room, function, 1/100 fte

    @property
    def entered(self) -> bool:
        return bool(self.lines or self.grants or self.staff)

    def totals(self) -> dict[str, Any]:
        income = sum(ln.cents for ln in self.lines if ln.kind == "income")
        costs = sum(ln.cents for ln in self.lines if ln.kind == "cost")
        return {
            "income": euros(income),
            "costs": euros(costs),
            "balance": euros(income - costs),
            "municipal_subsidy": euros(sum(g.cents for g in self.grants)),
            "fte": sum(f for _, _, f in self.staff) / 100,
        }


async def year_money(conn: AsyncConnection, year: int) -> YearMoney:
    money = YearMoney(year)
    for r in await conn.execute(select(_line).where(_line.c.year == year).order_by(_line.c.id)):
        money.lines.append(Line(r.kind, r.category, r.name, r.room_id, r.amount_cents))
    funded: dict[int, list[int]] = {}
    for grant_id, room_id in await conn.execute(
        select(_grant_room.c.grant_id, _grant_room.c.room_id)
        .join(_grant, _grant.c.id == _grant_room.c.grant_id)
        .where(_grant.c.year == year)
        .order_by(_grant_room.c.grant_id, _grant_room.c.room_id)
    ):
        funded.setdefault(grant_id, []).append(room_id)
    for r in await conn.execute(select(_grant).where(_grant.c.year == year).order_by(_grant.c.id)):
        money.grants.append(
            GrantRow(r.grantor, r.kind, r.amount_cents, tuple(funded.get(r.id, [])))
        )
    money.staff = [
        (r.room_id, r.function, r.fte_hundredths)
        for r in await conn.execute(
            select(_staff)
            .where(_staff.c.year == year)
            .order_by(_staff.c.room_id, _staff.c.function)
        )
    ]
    return money


async def budget(conn: AsyncConnection, year: int, *, required: bool = True) -> dict[str, Any]:
    """The year's budget as entered, with its totals; 404 when none was entered (if required)."""
    money = await year_money(conn, year)
    if required and not money.entered:
        raise NotFound(f"No budget was entered for {year}.")
    slugs = (await rooms.reference(conn)).room_slugs

    def slug(room_id: int | None) -> str | None:
        return None if room_id is None else slugs[room_id]

    return {
        "year": year,
        "income": [
            {"source": ln.name, "room": slug(ln.room_id), "amount": euros(ln.cents)}
            for ln in money.lines
            if ln.kind == "income"
        ],
        "costs": [
            {
                "category": ln.category,
                "name": ln.name,
                "room": slug(ln.room_id),
                "amount": euros(ln.cents),
            }
            for ln in money.lines
            if ln.kind == "cost"
        ],
        "subsidies": [
            {
                "grantor": g.grantor,
                "kind": g.kind,
                "rooms": [slugs[r] for r in g.room_ids],
                "amount": euros(g.cents),
            }
            for g in money.grants
        ],
        "staff": [
            {"room": slugs[room_id], "function": function, "fte": hundredths / 100}
            for room_id, function, hundredths in money.staff
        ],
        "totals": money.totals(),
    }


# where an item's error is reported: "income.0.room" in JSON, "line 3" in a sheet
Where = Callable[[str, int, str | None], str]


def _at(section: str, index: int, name: str | None) -> str:
    return f"{section}.{index}" + (f".{name}" if name else "")


@dataclass
class _YearRows:
    """The rows a year's money becomes, built from what was sent, and what is wrong with it."""

    ref: rooms.Reference
    year: int
    where: Where
    errors: list[tuple[str, str]] = field(default_factory=list)
    seen: set[tuple[Any, ...]] = field(default_factory=set)
    lines: list[dict[str, Any]] = field(default_factory=list)
    grants: list[tuple[GrantIn, list[int]]] = field(default_factory=list)
    staff: list[dict[str, Any]] = field(default_factory=list)

    def room_id(self, slug: str | None, at: str) -> int | None:
        if slug is None:
            return None
        if slug not in self.ref.rooms:
            self.errors.append((at, f"unknown room '{slug}'"))
            return None
        return self.ref.rooms[slug].id

    def once(self, key: tuple[Any, ...], at: str, what: str) -> None:
        if key in self.seen:
            self.errors.append((at, f"{what} is given twice"))
        self.seen.add(key)

    def add_lines(self, data: BudgetSet) -> None:
        for i, inc in enumerate(data.income):
            at, field_at = self.where("income", i, None), partial(self.where, "income", i)
            self.once(("income", inc.source, inc.room), at, f"income from '{inc.source}'")
            self.lines.append(
                {
                    "year": self.year,
                    "kind": "income",
                    "category": None,
                    "name": inc.source,
                    "room_id": self.room_id(inc.room, field_at("room")),
                    "amount_cents": _cents(inc.amount),
                }
            )
        for i, cost in enumerate(data.costs):
            at, field_at = self.where("costs", i, None), partial(self.where, "costs", i)
            key = ("cost", cost.category, cost.name, cost.room)
            self.once(key, at, f"cost line '{cost.name}'")
            self.lines.append(
                {
                    "year": self.year,
                    "kind": "cost",
                    "category": cost.category,
                    "name": cost.name,
                    "room_id": self.room_id(cost.room, field_at("room")),
                    "amount_cents": _cents(cost.amount),
                }
            )

    def add_grants(self, data: BudgetSet) -> None:
        for i, grant in enumerate(data.subsidies):
            field_at = partial(self.where, "subsidies", i)
            found = [self.room_id(slug, field_at("rooms")) for slug in grant.rooms]
            if len(set(grant.rooms)) < len(grant.rooms):
                self.errors.append((field_at("rooms"), "a room is named twice"))
            self.grants.append((grant, sorted({r for r in found if r is not None})))

    def add_staff(self, data: BudgetSet) -> None:
        for i, person in enumerate(data.staff):
            at, field_at = self.where("staff", i, None), partial(self.where, "staff", i)
            key = ("staff", person.room, person.function)
            self.once(key, at, f"{person.room} / {person.function}")
            self.staff.append(
                {
                    "year": self.year,
                    "room_id": self.room_id(person.room, field_at("room")),
                    "function": person.function,
                    "fte_hundredths": int(person.fte * 100),
                }
            )


async def replace_year(
    conn: AsyncConnection,
    principal: Principal,
    year: int,
    data: BudgetSet,
    where: Where = _at,
) -> dict[str, Any]:
    """The year's money becomes exactly this; audited. Returns which figures moved."""
    rows = _YearRows(await rooms.reference(conn), year, where)
    rows.add_lines(data)
    rows.add_grants(data)
    rows.add_staff(data)
    if rows.errors:
        raise InvalidInput(rows.errors[:200])
    before = await year_money(conn, year)
    await _store_year(conn, year, rows)
    after = await year_money(conn, year)
    moved = _moved(before, after)
    await record(
        conn,
        actor=principal,
        action="budgets.replace",
        object_type="budget",
        object_id=year,
        details={
            "moved": moved["figures"],
            "counts": {
                "income": len(data.income),
                "costs": len(data.costs),
                "subsidies": len(data.subsidies),
                "staff": len(data.staff),
            },
        },
    )
    return moved


async def _store_year(conn: AsyncConnection, year: int, rows: _YearRows) -> None:
    """The year's lines, grants and staff replaced by these."""
    await conn.execute(delete(_line).where(_line.c.year == year))
    await conn.execute(
        delete(_grant_room).where(
            _grant_room.c.grant_id.in_(select(_grant.c.id).where(_grant.c.year == year))
        )
    )
    await conn.execute(delete(_grant).where(_grant.c.year == year))
    await conn.execute(delete(_staff).where(_staff.c.year == year))
    if rows.lines:
        await conn.execute(insert(_line), rows.lines)
    for grant, ids in rows.grants:
        grant_id = (
            await conn.execute(
                insert(_grant)
                .values(
                    year=year,
                    grantor=grant.grantor,
                    kind=grant.kind,
                    amount_cents=_cents(grant.amount),
                )
                .returning(_grant.c.id)
            )
        ).scalar_one()
        await conn.execute(insert(_grant_room), [{"grant_id": grant_id, "room_id": r} for r in ids])
    if rows.staff:
        await conn.execute(insert(_staff), rows.staff)


_MOVED_NAMES = {
    "income": "income",
    "costs": "costs",
    "balance": "balance",
    "municipal_subsidy": "municipalSubsidy",
    "fte": "fte",
}


def _moved(before: YearMoney, after: YearMoney) -> dict[str, Any]:
    old = before.totals() if before.entered else {}
    new = after.totals() if after.entered else {}
    figures = []
    for key, name in _MOVED_NAMES.items():
        was, now = old.get(key), new.get(key)
        if was != now:
            figures.append(
                {
                    "figure": name,
                    "before": None if was is None else str(was),
                    "after": None if now is None else str(now),
                }
            )
    return {"year": after.year, "period_closed": after.year < today().year, "figures": figures}
