"""CSV that opens cleanly in Excel with Dutch settings: semicolons, decimal commas, a UTF-8
byte-order mark, CRLF, and no cell that Excel would run as a formula. No web framework
here: the figures and the budget sheet write with it; `api/responses.py` sends it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from api.errors import InvalidInput

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".").replace(".", ",")
    if isinstance(value, Decimal):  # exact euros: "-27088,00", a number to Excel, never text
        return format(value, "f").replace(".", ",")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    # a leading apostrophe makes Excel show the text instead of running it
    return "'" + text if text.startswith(_FORMULA_START) else text


def read_sheet(raw: bytes) -> csv.DictReader[str]:
    """An uploaded sheet, UTF-8 with or without a byte-order mark, `;` or `,` between fields."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput([("body", "not UTF-8 text")]) from None
    first = text.split("\n", 1)[0]
    return csv.DictReader(io.StringIO(text), delimiter=";" if ";" in first else ",")


def render(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def period_name(what: str, year: int, quarter: int | None, month: int | None) -> str:
    """A sheet's file name for its period: prestaties-2019, prestaties-2019-q1, -2019-03."""
    return (
        f"{what}-{year}" + (f"-q{quarter}" if quarter else "") + (f"-{month:02d}" if month else "")
    )
