"""A budget as one CSV sheet, a line per budget line, grant or staff function:

    section;kind;name;rooms;amount;fte
    income;;Stadsdeel Zuidoost;;248000,00;
    cost;staff;Inzet;;340188,00;
    subsidy;structural;Stadsdeel Zuidoost;casa-jepie-makandra, multibron;189000,00;
    staff;coordinator;;multibron;;0,5

Written for Excel with Dutch settings (api/indicators/export.py); read back with a decimal
comma or point, `;` or `,` between fields, and rooms apart by commas or spaces."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from api.budgets.schemas import BudgetSet
from api.errors import InvalidInput
from api.sheets import read_sheet, render

HEADER = ["section", "kind", "name", "rooms", "amount", "fte"]
SECTIONS = {"income": "income", "cost": "costs", "subsidy": "subsidies", "staff": "staff"}
_NUMBER = re.compile(r"^[0-9]+([.,][0-9]+)?$")


def rows(budget: dict[str, Any]) -> Iterable[list[Any]]:
    for line in budget["income"]:
        yield ["income", None, line["source"], line["room"], line["amount"], None]
    for line in budget["costs"]:
        yield ["cost", line["category"], line["name"], line["room"], line["amount"], None]
    for grant in budget["subsidies"]:
        yield [
            "subsidy",
            grant["kind"],
            grant["grantor"],
            ", ".join(grant["rooms"]),
            grant["amount"],
            None,
        ]
    for person in budget["staff"]:
        yield ["staff", person["function"], None, person["room"], None, Decimal(str(person["fte"]))]


def write(budget: dict[str, Any]) -> bytes:
    return render(HEADER, rows(budget))


def _number(value: str, name: str) -> str:
    """'189.000,00' would be ambiguous: one decimal mark, no thousands separators."""
    if not value:
        raise ValueError(f"{name} is missing")
    if not _NUMBER.match(value):
        raise ValueError("write a number like 189000,00 (no thousands separator)")
    return value.replace(",", ".")


def _item(section: str, row: dict[str, str]) -> dict[str, Any]:
    kind, name, rooms = row["kind"], row["name"], row["rooms"]
    if section == "staff":
        return {"room": rooms, "function": kind, "fte": _number(row["fte"], "fte")}
    amount = _number(row["amount"], "amount")
    if section == "income":
        return {"source": name, **({"room": rooms} if rooms else {}), "amount": amount}
    if section == "cost":
        item = {"category": kind, "name": name, "amount": amount}
        return {**item, **({"room": rooms} if rooms else {})}
    return {
        "grantor": name,
        "kind": kind,
        "rooms": [r for r in re.split(r"[\s,;]+", rooms) if r],
        "amount": amount,
    }


def read(raw: bytes, year: int) -> tuple[BudgetSet, dict[tuple[str, int], int]]:
    """The sheet as a BudgetSet, and the line each item came from (for the service's errors)."""
    reader = read_sheet(raw)
    missing = [
        c for c in ("section", "kind", "name", "rooms") if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise InvalidInput([("line 1", f"the header lacks {', '.join(missing)}")])
    items: dict[str, list[Any]] = {s: [] for s in SECTIONS.values()}
    lines: dict[tuple[str, int], int] = {}
    errors: list[tuple[str, str]] = []
    for number, raw_row in enumerate(reader, start=2):
        row = {k: (raw_row.get(k) or "").strip() for k in (*HEADER, "year")}
        where = f"line {number}"
        if row["year"] and row["year"] != str(year):
            errors.append((where, f"a line of {row['year']} in the budget of {year}"))
            continue
        section = SECTIONS.get(row["section"])
        if section is None:
            errors.append((where, "section is one of income, cost, subsidy, staff"))
            continue
        try:
            item = _item(row["section"], row)
            checked = BudgetSet.model_validate({section: [item]})
        except ValueError as exc:
            detail = (
                [f"{'.'.join(map(str, e['loc'][2:]))}: {e['msg']}" for e in exc.errors()]
                if isinstance(exc, ValidationError)
                else [str(exc)]
            )
            errors += [(where, d) for d in detail]
            continue
        lines[(section, len(items[section]))] = number
        items[section].append(getattr(checked, section)[0])
    if errors:
        raise InvalidInput(errors[:200])
    try:
        return BudgetSet.model_validate(
            {k: [i.model_dump() for i in v] for k, v in items.items()}
        ), lines
    except ValidationError as exc:
        raise InvalidInput([("body", e["msg"]) for e in exc.errors()][:200]) from None
