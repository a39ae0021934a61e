"""The performance figures and the targets as CSV rows (written by `api/sheets.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from api.reference.labels import label_nl


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
