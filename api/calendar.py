"""Reporting periods: a year, a quarter or a month, as Europe/Amsterdam calendar dates."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from api.errors import InvalidInput

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class Period:
    year: int
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def share_of_year(self) -> float:
        """Pro rata temporis: the period's days over the year's days."""
        return self.days / (366 if calendar.isleap(self.year) else 365)

    def elapsed_share(self, today: date) -> float:
        """How much of the period lies behind us (today counted): 0 before it, 1 after it."""
        if today < self.start:
            return 0.0
        if today >= self.end:
            return 1.0
        return ((today - self.start).days + 1) / self.days


def period(year: int, quarter: int | None = None, month: int | None = None) -> Period:
    if quarter is not None and month is not None:
        raise InvalidInput([("quarter", "give a quarter or a month, not both")])
    if quarter is not None:
        first = 3 * (quarter - 1) + 1
        last = first + 2
        return Period(
            year, date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
        )
    if month is not None:
        return Period(
            year, date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        )
    return Period(year, date(year, 1, 1), date(year, 12, 31))


def today() -> date:
    return datetime.now(AMSTERDAM).date()
