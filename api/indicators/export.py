"""CSV that opens cleanly in Excel with Dutch settings: semicolons, decimal commas, a UTF-8
byte-order mark, CRLF, and no cell that Excel would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from api.errors import InvalidInput
from api.reference.labels import label_nl

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


def performance_rows(data: dict[str, Any]) -> Iterable[list[Any]]:
    start, end = data["period"]["start"].isoformat(), data["period"]["end"].isoformat()
    for room in data["rooms"]:
        for f in room["indicators"]:
            yield [
                data["year"],
                start,
                end,
                room["room"],
                f["indicator"],
                f["unit"],
                f["target"],
                f["realised"],
                f["attainment"],
                f["expected_to_date"],
                None,
                room["label_nl"],
                f["label_nl"],
            ]
    for f in data["totals"]["indicators"]:
        yield [
            data["year"],
            start,
            end,
            "totaal",
            f["indicator"],
            f["unit"],
            f["target"],
            f["realised"],
            f["attainment"],
            f["expected_to_date"],
            f["realised_sum_of_rooms"],
            label_nl("totaal"),
            f["label_nl"],
        ]


PERFORMANCE_HEADER = [
    "jaar",
    "van",
    "tot en met",
    "kamer",
    "indicator",
    "eenheid",
    "doel",
    "gerealiseerd",
    "realisatiegraad",
    "verwacht tot nu",
    "som van de kamers",
    "kamernaam",
    "omschrijving",
]


TARGETS_HEADER = ["jaar", "kamer", "indicator", "eenheid", "doel"]


def target_rows(rows: Iterable[dict[str, Any]]) -> Iterable[list[Any]]:
    for r in rows:
        yield [r["year"], r["room"], r["indicator"], r["unit"], r["value"]]


def period_name(what: str, year: int, quarter: int | None, month: int | None) -> str:
    """A sheet's file name for its period: prestaties-2019, prestaties-2019-q1, -2019-03."""
    return (
        f"{what}-{year}" + (f"-q{quarter}" if quarter else "") + (f"-{month:02d}" if month else "")
    )
