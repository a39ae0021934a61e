"""/indicators/efficiency: what the work costs, against what it reaches.

The money is the year's budget (api/budgets/service.py), pro rata for a quarter as targets
are; people and services come from the indicator and outcome services, so they are counted
(and hidden for the district's roles) exactly as /indicators/performance and
/indicators/outcomes count them. A figure that cannot be computed is null, with the reason
under `reasons`; never 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy.ext.asyncio import AsyncConnection

from api.budgets import service as budgets
from api.budgets.models import COST_CATEGORIES
from api.calendar import Period
from api.caller import DISTRICT_ROLES, Principal
from api.disclosure import Family, protect
from api.indicators import service as indicators
from api.outcomes.figures import active_volunteers
from api.reference.labels import label_nl, with_labels
from api.rooms import service as rooms
from api.scoping import readable_rooms

CENT = budgets.CENT


class _Figures:
    """Figures with the reason each missing one is missing."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.reasons: dict[str, str] = {}

    def put(self, name: str, value: Any, reason: str) -> None:
        self.values[name] = value
        if value is None:
            self.reasons[name] = reason

    def divide(
        self,
        name: str,
        top: str,
        bottom: str,
        zero: str,
        shape: Callable[[Decimal], Any],
    ) -> None:
        a, b = self.values[top], self.values[bottom]
        if a is None:
            self.put(name, None, self.reasons[top])
        elif b is None:
            self.put(name, None, self.reasons[bottom])
        elif b == 0:
            self.put(name, None, zero)
        else:
            self.put(name, shape(Decimal(a) / Decimal(b)), zero)

    def public(self) -> dict[str, Any]:
        return {**self.values, "reasons": {to_camel(k): r for k, r in sorted(self.reasons.items())}}


def _euros(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(digits: int) -> Callable[[Decimal], float]:
    return lambda value: float(round(value, digits))


def _money(
    f: _Figures,
    money: budgets.YearMoney,
    share: Decimal,
    room_id: int | None,
    missing: str,
) -> None:
    """income, costs and their parts, the balance, the subsidy and fte: for the cooperative
    (room_id None) every line, for a room the lines kept for it."""
    if not money.entered:
        for name in (
            "income",
            "income_by_source",
            "costs",
            "costs_by_category",
            "balance",
            "municipal_subsidy",
            "fte",
        ):
            f.put(name, None, "no-budget")
        return

    def period_share(cents: int) -> Decimal:
        return _euros(Decimal(cents) * CENT * share)

    lines = [ln for ln in money.lines if room_id is None or ln.room_id == room_id]
    income: dict[str, int] = {}
    costs: dict[str, int] = {}
    for ln in lines:
        if ln.kind == "income":
            income[ln.name] = income.get(ln.name, 0) + ln.cents
        elif ln.category is not None:
            costs[ln.category] = costs.get(ln.category, 0) + ln.cents
    for total, parts, key, amounts in (
        ("income", "income_by_source", "source", income),
        ("costs", "costs_by_category", "category", costs),
    ):
        if not amounts:
            f.put(total, None, missing)
            f.put(parts, None, missing)
            continue
        if key == "category":  # every category, in the report's order
            amounts = {c: amounts.get(c, 0) for c in COST_CATEGORIES}
        f.put(total, period_share(sum(amounts.values())), missing)
        f.put(parts, [{key: k, "amount": period_share(c)} for k, c in amounts.items()], missing)
    if f.values["income"] is None or f.values["costs"] is None:
        f.put("balance", None, f.reasons.get("income") or f.reasons["costs"])
    else:
        f.put("balance", f.values["income"] - f.values["costs"], missing)

    grants = [g for g in money.grants if room_id is None or room_id in g.room_ids]
    if room_id is not None and any(len(g.room_ids) > 1 for g in grants):
        f.put("municipal_subsidy", None, "joint-grant")
    elif grants:
        f.put("municipal_subsidy", period_share(sum(g.cents for g in grants)), "not-entered")
    else:
        f.put("municipal_subsidy", None, "not-entered")
    staff = [h for r, _, h in money.staff if room_id is None or r == room_id]
    # fte is a rate, not an amount: a quarter has the same staff
    f.put("fte", Decimal(sum(staff)) / 100 if staff else None, "not-entered")


def _per_unit(f: _Figures) -> None:
    euros, share = _euros, _ratio(4)
    f.divide("municipal_share_of_costs", "municipal_subsidy", "costs", "no-costs", share)
    f.divide("cost_per_fte", "costs", "fte", "no-fte", euros)
    f.divide("cost_per_unique_visitor", "costs", "unique_visitors", "no-visitors", euros)
    f.divide(
        "cost_per_unique_visitor_at_target", "costs", "unique_visitors_target", "no-target", euros
    )
    f.divide("cost_per_service", "costs", "services", "no-services", euros)
    f.divide("volunteers_per_fte", "active_volunteers", "fte", "no-fte", _ratio(2))
    if f.values["fte"] is not None:
        f.values["fte"] = float(f.values["fte"])


def _visitors(figure: dict[str, Any] | None) -> tuple[int | None, float | None]:
    if figure is None:
        return None, None
    return figure.get("realised"), figure.get("target")


async def efficiency(
    conn: AsyncConnection, principal: Principal, period: Period, wanted_rooms: list[str]
) -> dict[str, Any]:
    ref = await rooms.reference(conn)
    shown = readable_rooms(principal, wanted_rooms, ref)
    readable = readable_rooms(principal, [], ref)
    district = principal.role in DISTRICT_ROLES
    money = await budgets.year_money(conn, period.year)
    share = Decimal(repr(period.share_of_year))

    performance = await indicators.performance(conn, principal, period, [])
    visitors = {
        row["room"]: next(
            (i for i in row["indicators"] if i["indicator"] == indicators.UNIQUE_VISITORS), None
        )
        for row in performance["rooms"]
    }
    total_visitors = next(
        (
            i
            for i in performance["totals"]["indicators"]
            if i["indicator"] == indicators.UNIQUE_VISITORS
        ),
        None,
    )
    counted = await indicators.realised(conn, period, readable)
    volunteering = await active_volunteers(conn, period, readable)
    volunteers: dict[int | None, int | None] = dict(volunteering)
    if district:  # active volunteers: a family of their own, as becameVolunteer is
        rows: list[int | None] = [*readable, None]
        family = protect(Family(rooms=readable, totals={r: volunteering.get(r, 0) for r in rows}))
        volunteers = {r: family.total(r) for r in rows}

    def figures(room_id: int | None) -> dict[str, Any]:
        f = _Figures()
        _money(f, money, share, room_id, "not-entered" if room_id is None else "not-kept-per-room")
        slug = None if room_id is None else ref.room_slugs[room_id]
        people, target = _visitors(total_visitors if slug is None else visitors.get(slug))
        f.put("unique_visitors", people, "hidden")
        f.put("unique_visitors_target", target, "no-target")
        services = counted.get((room_id, None), (0, 0))[0]
        # a room whose visitors are hidden has its services hidden too (disclosure rule 2)
        f.put("services", None if district and people is None else services, "hidden")
        f.put("active_volunteers", volunteers.get(room_id, 0), "hidden")
        _per_unit(f)
        return f.public()

    return {
        "year": period.year,
        "period": {"start": period.start, "end": period.end},
        "share_of_year": round(period.share_of_year, 4),
        "cooperative": figures(None) if district else None,
        "rooms": with_labels([{"room": ref.room_slugs[r], **figures(r)} for r in shown]),
    }


HEADER = [
    "jaar", "van", "tot en met", "kamer", "cijfer", "onderdeel", "waarde", "reden", "kamernaam",
    "toelichting",
]  # fmt: skip
_PARTS = {"income_by_source": "source", "costs_by_category": "category"}


def rows(data: dict[str, Any]) -> Iterator[list[Any]]:
    """A line per figure (and per source or category), per room and for the cooperative."""
    start, end = data["period"]["start"].isoformat(), data["period"]["end"].isoformat()
    scopes = [(r["room"], r) for r in data["rooms"]]
    if data["cooperative"] is not None:
        scopes.append(("coöperatie", data["cooperative"]))
    for scope, f in scopes:
        for name, value in f.items():
            if name in ("room", "label_nl", "reasons"):
                continue
            figure = to_camel(name)
            reason = f["reasons"].get(figure)
            if name in _PARTS and value is not None:
                for part in value:
                    yield [
                        data["year"],
                        start,
                        end,
                        scope,
                        figure,
                        part[_PARTS[name]],
                        part["amount"],
                        None,
                        label_nl(scope),
                        None,
                    ]
            else:
                explained = label_nl(reason) if reason else None
                row = [data["year"], start, end, scope, figure, None, value, reason]
                yield [*row, label_nl(scope), explained]
