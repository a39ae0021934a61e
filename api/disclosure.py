"""Disclosure control: which counts of people the district roles may see, so that no count of
1 to 4 people is shown or can be worked out from everything else they see for that period.

The method, after the statistical offices' practice (CBS, tau-ARGUS), on a *family*: every
table that counts the same people for the same period. For a period's visitors that is the
participants by age band, by postcode area, per activity (where counted in participants),
the services per activity, and the unique visitors of each room and of the district, which
are the row totals every one of those tables shares. Each table has a row per room and the
district row (distinct across the rooms). Outcomes make a family per instrument and matrix
domain (up, same, down; `measured` the row total) and one for `becameVolunteer`.

1. Primary rule: a count of 1 to 4 people is hidden. 0 is shown: nobody is described by it.
2. Whole-row rule: a room whose total is hidden is hidden in every table of its family
   (services too: they bound the number of people from above).
3. Line rule (secondary suppression): the lines are each room's and the district's row
   (where the columns add up to the total) and each column with the district's figure as its
   total, and the column of room totals with the district's as its total. The attacker is
   assumed to know that no one visits two rooms, so a district figure is taken as the sum of
   the rooms'. A line with a hidden count of someone needs at least two hidden non-zero
   counts, and, while its total is shown, hidden counts that add up to 5 or more: the total
   minus the shown counts is their sum, and a sum under 5 would be a small count itself.
   And each hidden count has hidden company in the line: the other hidden counts beside it
   add up to at least 3 people (WIDTH), or the line and its neighbours could pin it down
   (two hidden 1s beside a hidden 4 left a count known to within 2). A hidden total beside a
   single hidden count is its mirror, the same people, and asks nothing of the line.
   Where a line falls short, the smallest non-zero shown count is hidden too, preferring one
   whose other line has hidden counts already (so hidden counts form rectangles); the line's
   total only when nothing else is left.
4. Rules 2 and 3 repeat until every line holds. Where they would have to hide the district's
   own total, the period is too small to protect: every count of people in the family is
   hidden, and the answer says so.

tests/indicators/test_disclosure.py checks the outcome as an attacker would: by linear
programming over everything published for the period, every hidden count of someone can
still take values at least 3 apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

MINIMUM = 5
WIDTH = 3  # every hidden count of someone still ranges over at least this much
Row = int | None  # a room id, or None for the district
Key = tuple[Row, str]
TOTAL = "total"


@dataclass
class Table:
    """Counts per room and for the district (row None), per column."""

    columns: list[str]
    cells: dict[Key, int]
    people: bool = True  # counts of people; False: services (not sensitive in themselves)
    adds_up: bool = True  # the columns of a row add up to the row's total
    absent: set[Key] = field(default_factory=set)  # not published in this table at all
    hidden: set[Key] = field(default_factory=set)

    def value(self, key: Key) -> int:
        return self.cells.get(key, 0)


@dataclass
class Family:
    """Tables of the same people for the same period, sharing the row totals."""

    rooms: list[int]
    totals: dict[Row, int]
    tables: dict[str, Table] = field(default_factory=dict)
    hidden_totals: set[Row] = field(default_factory=set)
    too_small: bool = False

    def total(self, row: Row) -> int | None:
        return None if row in self.hidden_totals else self.totals.get(row, 0)

    def cell(self, table: str, row: Row, column: str) -> int | None:
        t = self.tables[table]
        return None if (row, column) in t.hidden else t.value((row, column))

    def sum_of_rooms(self, table: str | None, column: str = TOTAL) -> int | None:
        """The plain sum of the rooms' figures, unless one of them is hidden."""
        if table is None:
            if self.hidden_totals:
                return None
            return sum(self.totals.get(r, 0) for r in self.rooms)
        t = self.tables[table]
        if any((r, column) in t.hidden for r in self.rooms):
            return None
        return sum(t.value((r, column)) for r in self.rooms)

    def hidden_count(self) -> int:
        return len(self.hidden_totals) + sum(len(t.hidden) for t in self.tables.values())


# a slot is one published figure: ("", row) a row total, (table name, key) a table's cell
Slot = tuple[str, Any]


@dataclass
class _Line:
    members: list[Slot]
    total: Slot
    people: bool


def _lines(f: Family) -> Iterator[_Line]:
    rows: list[Row] = [*f.rooms, None]
    yield _Line([("", r) for r in f.rooms], ("", None), True)
    for name, t in f.tables.items():
        for c in t.columns:
            yield _Line([(name, (r, c)) for r in f.rooms], (name, (None, c)), t.people)
        if t.adds_up:
            for r in rows:
                yield _Line([(name, (r, c)) for c in t.columns], ("", r), t.people)


class _State:
    def __init__(self, f: Family) -> None:
        self.f = f
        self.lines = list(_lines(f))
        self.crossing: dict[Slot, list[_Line]] = {}
        for line in self.lines:
            for slot in [*line.members, line.total]:
                self.crossing.setdefault(slot, []).append(line)

    def value(self, slot: Slot) -> int:
        name, key = slot
        return self.f.totals.get(key, 0) if name == "" else self.f.tables[name].value(key)

    def hidden(self, slot: Slot) -> bool:
        name, key = slot
        return key in self.f.hidden_totals if name == "" else key in self.f.tables[name].hidden

    def absent(self, slot: Slot) -> bool:
        name, key = slot
        return name != "" and key in self.f.tables[name].absent

    def unknown(self, slot: Slot) -> bool:
        return self.hidden(slot) or self.absent(slot)

    def hide(self, slot: Slot) -> None:
        name, key = slot
        if name == "":
            self.f.hidden_totals.add(key)
        elif key not in self.f.tables[name].absent:
            self.f.tables[name].hidden.add(key)

    def holds(self, line: _Line) -> bool:
        every = [*line.members, line.total]
        if not any(self.hidden(s) and self.value(s) > 0 for s in every):
            return True
        if sum(1 for s in every if self.unknown(s) and self.value(s) > 0) < 2:
            return False
        hidden_sum = sum(self.value(s) for s in line.members if self.unknown(s))
        if line.people and not self.unknown(line.total) and hidden_sum < MINIMUM:
            return False
        # company: each hidden count has other hidden counts beside it in the line worth at
        # least WIDTH people, so that the line cannot pin it to a narrower range (two hidden
        # 1s beside a hidden 4 would leave a count of 1 to 4 known to within 2). A hidden
        # total beside one hidden count is its mirror (the same people): that line adds
        # nothing, and the count's protection comes from its other lines.
        unknown = [s for s in line.members if self.unknown(s)]
        if self.unknown(line.total) and sum(1 for s in unknown if self.value(s)) <= 1:
            return True
        company = sum(self.value(s) for s in unknown)
        return all(
            company - self.value(s) >= WIDTH for s in unknown if self.hidden(s) and self.value(s)
        )

    def candidate(self, line: _Line) -> Slot | None:
        shown = [s for s in line.members if not self.unknown(s) and self.value(s) > 0]

        def cost(slot: Slot) -> tuple[int, int]:
            others = [x for x in self.crossing.get(slot, []) if x is not line]
            joins = any(
                self.hidden(s) and self.value(s) > 0 for x in others for s in [*x.members, x.total]
            )
            return (0 if joins else 1, self.value(slot))

        if shown:
            return min(shown, key=cost)
        if not self.unknown(line.total) and self.value(line.total) > 0:
            return line.total
        return None


def _hide_rows(f: Family) -> bool:
    """Rule 2: a hidden room total hides the room's row in every table."""
    changed = False
    for row in f.hidden_totals - {None}:
        for t in f.tables.values():
            for c in t.columns:
                if (row, c) not in t.hidden and (row, c) not in t.absent:
                    t.hidden.add((row, c))
                    changed = True
    return changed


def _hide_everything(f: Family) -> None:
    f.too_small = True
    f.hidden_totals = {*f.rooms, None}
    for t in f.tables.values():
        t.hidden = {(r, c) for r in [*f.rooms, None] for c in t.columns} - t.absent


def protect(f: Family) -> Family:
    """Hide, in place, what the district roles may not see of this family (rules 1 to 4)."""
    state = _State(f)
    for row, n in f.totals.items():
        if 0 < n < MINIMUM:
            f.hidden_totals.add(row)
    for t in f.tables.values():
        if t.people:
            t.hidden |= {k for k, n in t.cells.items() if 0 < n < MINIMUM} - t.absent
    changed = True
    while changed:
        if None in f.hidden_totals:
            _hide_everything(f)
            return f
        changed = _hide_rows(f)
        for line in state.lines:
            if state.holds(line):
                continue
            slot = state.candidate(line)
            if slot is None:
                _hide_everything(f)
                return f
            state.hide(slot)
            changed = True
    return f


@dataclass
class Control:
    """What a district role's answer says about disclosure control."""

    families: list[Family]

    def public(self) -> dict[str, Any]:
        if any(f.too_small for f in self.families):
            note = (
                "Too few people in this period to show their counts without revealing "
                "someone: those counts are hidden (null); a longer period may hold enough."
            )
        else:
            hidden = sum(f.hidden_count() for f in self.families)
            note = (
                f"{hidden} count(s) hidden (null) across this period's answers: counts of 1 to 4 "
                "people, and as many others "
                "as needed that none can be worked out from the rest of what you see for "
                "this period (other rooms, the district, other breakdowns and indicators)."
            )
        return {"applied": True, "note": note}


NOT_APPLIED = {
    "applied": False,
    "note": "Your own rooms' figures, in full: you know the people they count.",
}


def controlled(families: Iterable[Family] | None) -> dict[str, Any]:
    """The `disclosureControl` member of an answer, from its protected families; None for a
    role that sees it all."""
    return NOT_APPLIED if families is None else Control(list(families)).public()
