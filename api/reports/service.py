"""The accountability document's figures: gathered from the services the JSON answers use,
never counted again here. Each figure keeps the path of the JSON member it equals
(`source:member.0.member`), which the document writes beside it as `data-figure`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy.ext.asyncio import AsyncConnection

from api.calendar import period, today
from api.caller import DISTRICT_ROLES, Principal
from api.indicators import efficiency as money
from api.indicators import service as indicators
from api.outcomes import figures as outcomes
from api.referrals import figures as referrals
from api.reports import labels
from api.reports.labels import COST_CATEGORIES

HIDDEN = "\u2013"  # an en dash: hidden, or not to be computed
MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


@dataclass(frozen=True)
class Figure:
    """A figure as the document shows it, with the JSON member it equals."""

    path: str
    text: str

    @property
    def hidden(self) -> bool:
        return self.text == HIDDEN


def _thousands(text: str) -> str:
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def show(value: Any, kind: str = "count") -> str:
    """Dutch notation: 1.234; 12,5; 87%; € 1.234,56. None is a hidden or missing figure."""
    if value is None:
        return HIDDEN
    if kind == "euro":
        return "€ " + _thousands(f"{Decimal(value):,.2f}")
    if kind == "percent":
        return _thousands(f"{float(value) * 100:,.0f}") + "%"
    if kind == "percent1":
        return _thousands(f"{float(value) * 100:,.1f}") + "%"
    if kind == "decimal":
        return _thousands(f"{float(value):,.1f}")
    if kind == "ratio":
        return _thousands(f"{float(value):,.2f}")
    if isinstance(value, float) and not value.is_integer():
        return _thousands(f"{value:,.1f}")
    return _thousands(f"{int(value):,}")


class _Source:
    """One JSON answer: figures from it carry their path in the answer's camelCase."""

    def __init__(self, name: str, data: dict[str, Any]) -> None:
        self.name, self.data = name, data

    def figure(self, *path: str | int, kind: str = "count") -> Figure:
        value: Any = self.data
        for step in path:
            value = value[step] if value is not None else None
        # members are snake_case here, camelCase in JSON; dict keys (reason codes) stay as they are
        name = ".".join(to_camel(s) if isinstance(s, str) and "_" in s else str(s) for s in path)
        return Figure(f"{self.name}:{name}", show(value, kind))


def period_name(year: int, quarter: int | None) -> str:
    if quarter is None:
        return str(year)
    first = MONTHS[3 * (quarter - 1)]
    last = MONTHS[3 * quarter - 1]
    return f"{quarter}e kwartaal {year} ({first} t/m {last})"


async def accountability(
    conn: AsyncConnection,
    principal: Principal,
    year: int,
    quarter: int | None,
    overdue_days: int,
    now: Any,
) -> dict[str, Any]:
    when = period(year, quarter)
    names = await labels.load(conn)
    dutch = names.dutch
    district = principal.role in DISTRICT_ROLES
    perf = await indicators.performance(conn, principal, when, [])
    refs = await referrals.referral_figures(conn, principal, when, [], overdue_days, now)
    outs = await outcomes.outcome_figures(conn, principal, when, [])
    eff = await money.efficiency(conn, principal, when, [])
    p, r, o, e = (
        _Source("performance", perf),
        _Source("referrals", refs),
        _Source("outcomes", outs),
        _Source("efficiency", eff),
    )

    activities = [i["indicator"] for i in perf["totals"]["indicators"]]
    performance_rows = []
    for k, row in enumerate(perf["rooms"]):
        performance_rows.append(
            {
                "room": dutch(row["room"]),
                "cells": [
                    {
                        "indicator": dutch(f["indicator"]),
                        "unit": dutch(f["unit"]),
                        "target": p.figure("rooms", k, "indicators", j, "target"),
                        "realised": p.figure("rooms", k, "indicators", j, "realised"),
                        "attainment": p.figure(
                            "rooms", k, "indicators", j, "attainment", kind="percent"
                        ),
                    }
                    for j, f in enumerate(row["indicators"])
                ],
            }
        )
    totals = [
        {
            "indicator": dutch(f["indicator"]),
            "unit": dutch(f["unit"]),
            "target": p.figure("totals", "indicators", j, "target"),
            "realised": p.figure("totals", "indicators", j, "realised"),
            "sum": p.figure("totals", "indicators", j, "realised_sum_of_rooms"),
            "attainment": p.figure("totals", "indicators", j, "attainment", kind="percent"),
        }
        for j, f in enumerate(perf["totals"]["indicators"])
    ]

    referral_rows = []
    for k, item in enumerate(refs["items"]):
        referral_rows.append(
            {
                "partner": dutch(item["partner"]),
                "direction": dutch(item["direction"]),
                "total": r.figure("items", k, "total"),
                "closure": r.figure("items", k, "closure_rate", kind="percent"),
                "completion": r.figure("items", k, "completion_rate", kind="percent"),
                "accept_days": r.figure("items", k, "median_days_to_acceptance", kind="decimal"),
                "complete_days": r.figure("items", k, "median_days_to_completion", kind="decimal"),
                "overdue": r.figure("items", k, "overdue"),
                "reasons": [
                    {"reason": dutch(code), "count": r.figure("items", k, "reasons", code)}
                    for code in sorted(item["reasons"])
                ],
            }
        )

    def outcome_rows(scope: tuple[str | int, ...], data: dict[str, Any]) -> list[dict[str, Any]]:
        rows = []
        for j, i in enumerate(data["instruments"]):
            at = (*scope, "instruments", j)
            rows.append(
                {
                    "name": dutch(i["instrument"]),
                    **{k: o.figure(*at, k) for k in ("measured", "up", "same", "down")},
                    "days": o.figure(*at, "median_days_between", kind="decimal"),
                    "target": o.figure(*at, "target"),
                    "attainment": o.figure(*at, "attainment", kind="percent"),
                }
            )
        return rows

    outcome_scopes = [
        {
            "name": dutch(row["room"]),
            "rows": outcome_rows(("rooms", k), row),
            "volunteers": o.figure("rooms", k, "became_volunteer"),
            "volunteers_target": o.figure("rooms", k, "became_volunteer_target"),
        }
        for k, row in enumerate(outs["rooms"])
    ]
    outcome_scopes.append(
        {
            "name": "Stadsdeel (alle kamers)" if district else "Uw kamers samen",
            "rows": outcome_rows(("totals",), outs["totals"]),
            "volunteers": o.figure("totals", "became_volunteer"),
            "volunteers_target": o.figure("totals", "became_volunteer_target"),
        }
    )

    money_scopes = []
    scopes: list[tuple[str, tuple[str | int, ...], dict[str, Any]]] = []
    if eff["cooperative"] is not None:
        scopes.append(("Coöperatie", ("cooperative",), eff["cooperative"]))
    scopes += [(dutch(row["room"]), ("rooms", k), row) for k, row in enumerate(eff["rooms"])]
    for name, at, f in scopes:
        reasons = f["reasons"]

        def fig(
            member: str,
            kind: str,
            at: tuple[str | int, ...] = at,
            reasons: dict[str, str] = reasons,
        ) -> dict[str, Any]:
            return {
                "figure": e.figure(*at, member, kind=kind),
                "reason": dutch(reasons.get(to_camel(member))),
            }

        money_scopes.append(
            {
                "name": name,
                "income_by_source": [
                    {
                        "label": s["source"],
                        "figure": e.figure(*at, "income_by_source", n, "amount", kind="euro"),
                    }
                    for n, s in enumerate(f["income_by_source"] or [])
                ],
                "costs_by_category": [
                    {
                        "label": COST_CATEGORIES.get(c["category"], c["category"]),
                        "figure": e.figure(*at, "costs_by_category", n, "amount", kind="euro"),
                    }
                    for n, c in enumerate(f["costs_by_category"] or [])
                ],
                "lines": [
                    ("Inkomsten", fig("income", "euro")),
                    ("Kosten", fig("costs", "euro")),
                    ("Saldo (inkomsten \u2212 kosten)", fig("balance", "euro")),
                    ("Gemeentelijke subsidie", fig("municipal_subsidy", "euro")),
                    ("Aandeel subsidie in de kosten", fig("municipal_share_of_costs", "percent1")),
                    ("Formatie (fte)", fig("fte", "decimal")),
                    ("Kosten per fte", fig("cost_per_fte", "euro")),
                    ("Unieke bezoekers", fig("unique_visitors", "count")),
                    (
                        "Kosten per deelnemer (unieke bezoeker)",
                        fig("cost_per_unique_visitor", "euro"),
                    ),
                    (
                        "Kosten per deelnemer bij het afgesproken aantal",
                        fig("cost_per_unique_visitor_at_target", "euro"),
                    ),
                    ("Diensten", fig("services", "count")),
                    ("Kosten per dienst", fig("cost_per_service", "euro")),
                    ("Actieve vrijwilligers", fig("active_volunteers", "count")),
                    ("Vrijwilligers per fte", fig("volunteers_per_fte", "ratio")),
                ],
            }
        )

    # charts: drawn in a worker thread (matplotlib is CPU work), from the figures above
    room_names = [dutch(row["room"]) for row in perf["rooms"]]
    attainment_values = [[f["attainment"] for f in row["indicators"]] for row in perf["rooms"]]
    quarters = []
    for q in range(1, 5):
        qp = period(year, q)
        q_perf = await indicators.performance(conn, principal, qp, [])
        q_eff = await money.efficiency(conn, principal, qp, [])
        visitors = next(
            f["realised"]
            for f in q_perf["totals"]["indicators"]
            if f["indicator"] == indicators.UNIQUE_VISITORS
        )
        if q_eff["cooperative"] is not None:
            services = q_eff["cooperative"]["services"]
        else:
            known = [row["services"] for row in q_eff["rooms"]]
            services = None if None in known else sum(known)
        quarters.append((f"K{q}", services, visitors))
    source = eff["cooperative"] or {}
    income = [(s["source"], float(s["amount"])) for s in source.get("income_by_source") or []]
    costs = [
        (COST_CATEGORIES.get(c["category"], c["category"]), float(c["amount"]))
        for c in source.get("costs_by_category") or []
    ]

    def draw() -> dict[str, str | None]:
        from api.reports import charts  # matplotlib loads on the first document, not at start

        return {
            "attainment": charts.attainment(
                room_names, [dutch(a) for a in activities], attainment_values
            )
            if room_names
            else None,
            "quarters": charts.per_quarter(
                [q for q, _, _ in quarters],
                [s for _, s, _ in quarters],
                [v for _, _, v in quarters],
            ),
            "money": charts.money(income, costs) if income and costs else None,
        }

    drawn = await asyncio.to_thread(draw)
    return {
        "year": year,
        "quarter": quarter,
        "period_name": period_name(year, quarter),
        "start": when.start,
        "end": when.end,
        "made_on": today(),
        "district": district,
        "role": principal.role,
        "rooms": room_names,
        "performance": {"rooms": performance_rows, "totals": totals},
        "performance_note": perf["disclosure_control"],
        "outcomes_note": outs["disclosure_control"],
        "referrals": referral_rows,
        "outcomes": outcome_scopes,
        "cooperative": money_scopes[0] if eff["cooperative"] is not None else None,
        "money_rooms": _per_room(
            money_scopes[1:] if eff["cooperative"] is not None else money_scopes
        ),
        "share_of_year": show(eff["share_of_year"], "percent1"),
        "charts": drawn,
        "hidden": HIDDEN,
    }


def _per_room(scopes: list[dict[str, Any]]) -> dict[str, Any]:
    """The rooms' money side by side: a line per figure, a column per room, and per line the
    reasons its missing figures are missing."""
    if not scopes:
        return {"rooms": [], "lines": []}
    lines = []
    for n, (label, _) in enumerate(scopes[0]["lines"]):
        cells = [scope["lines"][n][1] for scope in scopes]
        reasons = dict.fromkeys(c["reason"] for c in cells if c["figure"].hidden and c["reason"])
        lines.append(
            {"label": label, "cells": [c["figure"] for c in cells], "reasons": list(reasons)}
        )
    return {"rooms": [scope["name"] for scope in scopes], "lines": lines}
