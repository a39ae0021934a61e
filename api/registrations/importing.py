"""Reading a room's paper list or spreadsheet, saved as CSV (comma or semicolon, as Excel
with Dutch settings writes it). Columns, in any order and case:

    date          the day (2019-03-31 or 31-03-2019)                      required
    activity      an activity code (forms, dutch-language, ...)           required
    residentCode  a resident's code (K7Q-M428)                            optional
    residentName  a new resident on this list; one per distinct name      optional
    headcount     for an anonymous group: how many took part              optional
    note          a short note                                            optional
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from api.errors import InvalidInput
from api.residents import codes
from api.text import clean_text

if TYPE_CHECKING:
    from api.rooms.service import RoomRef

COLUMNS = {
    "date": "date",
    "occurredon": "date",
    "datum": "date",
    "activity": "activity",
    "activiteit": "activity",
    "residentcode": "resident_code",
    "code": "resident_code",
    "residentname": "resident_name",
    "naam": "resident_name",
    "name": "resident_name",
    "headcount": "headcount",
    "aantal": "headcount",
    "note": "note",
    "opmerking": "note",
}


class ImportFormatError(ValueError):
    pass


def read_upload(raw: bytes) -> list[tuple[int, dict[str, str]]]:
    """The rows of an uploaded list, UTF-8 or Excel's Windows-1252 "CSV"; a flaw in the file
    is an InvalidInput naming the body."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")  # Excel's "CSV" on Windows
        except UnicodeDecodeError:
            raise InvalidInput([("body", "not UTF-8 or Windows-1252 text")]) from None
    try:
        return list(read_csv(text))
    except (ImportFormatError, csv.Error) as exc:
        raise InvalidInput([("body", str(exc))]) from None


def read_csv(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row; the header is line 1."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFormatError("the file is empty") from None
    names = [COLUMNS.get(re.sub(r"[^a-z]", "", h.lower())) for h in header]
    missing = {"date", "activity"} - set(names)
    if missing:
        raise ImportFormatError(f"the header lacks the column(s): {', '.join(sorted(missing))}")
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(names):
            yield number, {"__error__": "has more cells than the header"}
            continue
        yield number, {n: v.strip() for n, v in zip(names, values, strict=False) if n}


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%d-%m-%y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date '{value[:20]}' is not a date like 2019-03-31 or 31-03-2019")


def parse_import_row(
    raw: dict[str, str], activities: dict[str, int], room: RoomRef, line: int, today: date
) -> dict[str, Any]:
    if "__error__" in raw:
        raise ValueError(raw["__error__"])
    occurred_on = _date(raw.get("date", ""))
    if occurred_on > today:
        raise ValueError("date is in the future")
    if occurred_on < room.opened_on:
        raise ValueError(f"date is before {room.slug} opened")
    activity = raw.get("activity", "").lower()
    if activity not in activities:
        raise ValueError(f"activity '{activity[:40]}' is not an activity code")
    code = raw.get("resident_code", "")
    if code and not codes.well_formed(code):
        raise ValueError(f"resident code '{code[:10]}' is not a code like {codes.EXAMPLE}")
    if code and not codes.is_valid(code):
        raise ValueError("a character of the resident code is mistyped")
    code = codes.normalise(code) if code else ""
    name = clean_text(raw.get("resident_name", ""))[:120] or None
    note = clean_text(raw.get("note", "")) or None
    if note and len(note) > 500:
        raise ValueError("note is longer than 500 characters")
    headcount_text = raw.get("headcount", "")
    if code or name:
        if headcount_text not in ("", "1"):
            raise ValueError("a row for one resident has headcount 1")
        headcount = 1
    else:
        if not headcount_text.isdigit() or not 1 <= int(headcount_text) <= 1000:
            raise ValueError("an anonymous row needs a headcount from 1 to 1000")
        headcount = int(headcount_text)
    return {
        "line": line,
        "occurred_on": occurred_on,
        "activity_id": activities[activity],
        "resident_code": code or None,
        "resident_name": name,
        "headcount": headcount,
        "note": note,
    }
