"""/indicators/referrals: is the loop closed? Counts by status, closure, speed, reasons."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.base import table
from api.calendar import Period
from api.caller import Principal
from api.reference.labels import label_nl, with_labels
from api.referrals.models import Referral
from api.referrals.service import CLOSED, OPEN
from api.rooms import service as rooms
from api.scoping import readable_rooms

_ref: Table = table(Referral)
STATUSES = ("sent", "accepted", "declined", "withdrawn", "completed", "no_show")


async def referral_figures(
    conn: AsyncConnection,
    principal: Principal,
    period: Period,
    wanted_rooms: list[str],
    overdue_days: int,
    now: Any,
) -> dict[str, Any]:
    ref = await rooms.reference(conn)
    room_ids = readable_rooms(principal, wanted_rooms, ref)
    start = period.start
    in_period = and_(
        _ref.c.room_id.in_(room_ids),
        _ref.c.created_at >= _midnight(start),
        _ref.c.created_at < _midnight(period.end + timedelta(days=1)),
    )
    late = and_(
        _ref.c.status.in_(OPEN), _ref.c.status_changed_at < now - timedelta(days=overdue_days)
    )
    counts = await conn.execute(
        select(
            _ref.c.partner_id,
            _ref.c.direction,
            _ref.c.status,
            _ref.c.outcome_reason,
            func.count(),
            func.sum(case((late, 1), else_=0)),
        )
        .where(in_period)
        .group_by(_ref.c.partner_id, _ref.c.direction, _ref.c.status, _ref.c.outcome_reason)
    )
    groups: dict[tuple[int, str], dict[str, Any]] = defaultdict(
        lambda: {
            "statuses": dict.fromkeys(STATUSES, 0),
            "reasons": defaultdict(int),
            "overdue": 0,
        }
    )
    for partner_id, direction, status, reason, n, overdue in counts:
        group = groups[(partner_id, direction)]
        group["statuses"][status] += n
        group["overdue"] += int(overdue or 0)
        if reason:
            group["reasons"][reason] += n
    # days to acceptance and completion: a few hundred referrals a year, so the medians are
    # taken over the durations (dialect-neutral); the counting above stays in SQL
    durations: dict[tuple[int, str], dict[str, list[float]]] = defaultdict(
        lambda: {"accept": [], "complete": []}
    )
    for partner_id, direction, status, created, accepted, closed in await conn.execute(
        select(
            _ref.c.partner_id,
            _ref.c.direction,
            _ref.c.status,
            _ref.c.created_at,
            _ref.c.accepted_at,
            _ref.c.closed_at,
        ).where(in_period, _ref.c.accepted_at.is_not(None))
    ):
        d = durations[(partner_id, direction)]
        d["accept"].append((accepted - created).total_seconds() / 86400)
        if status == "completed" and closed is not None:
            d["complete"].append((closed - created).total_seconds() / 86400)
    codes = await rooms.partner_codes(conn, {partner_id for partner_id, _ in groups})
    items = []
    for (partner_id, direction), group in sorted(
        groups.items(), key=lambda g: (codes[g[0][0]], g[0][1])
    ):
        total = sum(group["statuses"].values())
        closed = sum(group["statuses"][s] for s in CLOSED)
        d = durations[(partner_id, direction)]
        items.append(
            {
                "partner": codes[partner_id],
                "direction": direction,
                "total": total,
                "by_status": group["statuses"],
                "closure_rate": round(closed / total, 3) if total else None,
                "completion_rate": round(group["statuses"]["completed"] / total, 3)
                if total
                else None,
                "median_days_to_acceptance": _median(d["accept"]),
                "median_days_to_completion": _median(d["complete"]),
                "overdue": group["overdue"],
                "reasons": dict(group["reasons"]),
                "reason_labels": {r: label_nl(r) for r in group["reasons"]},
            }
        )
    return {
        "year": period.year,
        "period": {"start": period.start, "end": period.end},
        "rooms": [ref.room_slugs[r] for r in room_ids],
        "items": with_labels(items),
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _midnight(day: date) -> Any:
    from datetime import datetime

    from api.calendar import AMSTERDAM

    return datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM)
