"""The assignments as a sheet (Dutch labels, Excel-safe via api/indicators/export) and as a
plain HTML page: no script, no external assets, every text escaped."""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Any

from api.public.schemas import Assignments, Quarter
from api.reference.labels import label_nl

KIND_NL = {"structural": "structureel", "incidental": "incidenteel"}
UNIT_NL = {"services": "diensten", "participants": "deelnemers"}
DAY_NL = {
    "monday": "maandag",
    "tuesday": "dinsdag",
    "wednesday": "woensdag",
    "thursday": "donderdag",
    "friday": "vrijdag",
    "saturday": "zaterdag",
    "sunday": "zondag",
}

CSV_HEADER = [
    "jaar",
    "kamer",
    "kwartaal",
    "van",
    "tot en met",
    "indicator",
    "eenheid",
    "doel",
    "gerealiseerd",
    "realisatiegraad",
]


def csv_rows(data: Assignments) -> Iterator[list[Any]]:
    """A line per room (and the district), quarter and indicator, with Dutch labels."""
    rows = [(r.label_nl, r.quarters) for r in data.rooms]
    rows.append((label_nl("totaal"), data.district.quarters))
    for name, quarters in rows:
        for q in quarters:
            for f in q.indicators:
                yield [
                    data.year,
                    name,
                    q.quarter,
                    q.period.start.isoformat(),
                    q.period.end.isoformat(),
                    f.label_nl,
                    UNIT_NL[f.unit],
                    f.target,
                    f.realised,
                    f.attainment,
                ]


def _number(value: Any) -> str:
    if value is None:
        return "&ndash;"
    return escape(f"{value:g}".replace(".", ",") if isinstance(value, float) else str(value))


def _quarters(quarters: list[Quarter]) -> str:
    if not quarters:
        return "<p>Nog geen kwartaal begonnen.</p>"
    head = "".join(f"<th>K{q.quarter}</th>" for q in quarters)
    lines = []
    for i, f in enumerate(quarters[0].indicators):
        cells = "".join(
            f"<td>{_number(q.indicators[i].realised)} / {_number(q.indicators[i].target)}</td>"
            for q in quarters
        )
        lines.append(f"<tr><th scope=row>{escape(f.label_nl)}</th>{cells}</tr>")
    notes = "".join(f"<li>K{q.quarter}: {escape(q.disclosure_control.note)}</li>" for q in quarters)
    return (
        f"<table><thead><tr><th>gerealiseerd / doel</th>{head}</tr></thead>"
        f"<tbody>{''.join(lines)}</tbody></table><ul class=note>{notes}</ul>"
    )


def html(data: Assignments) -> str:
    parts = [
        "<!doctype html><html lang=nl><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width, initial-scale=1">',
        f"<title>Opdrachten van de buurtwerkkamers {data.year}</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #999;"
        "padding:.2rem .4rem;text-align:left}.note{font-size:.85rem;color:#444}</style>",
        f"</head><body><h1>Opdrachten van de buurtwerkkamers {data.year}</h1>",
        f"<p class=note>{escape(data.disclosure_control.note)}</p>",
    ]
    for r in data.rooms:
        hours = ", ".join(
            f"{escape(DAY_NL.get(h.day, h.day))} {escape(h.opens)}&ndash;{escape(h.closes)}"
            for h in r.opening_hours
        )
        activities = "".join(
            f"<li>{escape(a.label_nl)}: doel {_number(a.target)} {UNIT_NL[a.unit]}</li>"
            for a in r.activities
        )
        subsidies = "".join(
            f"<li>{escape(s.grantor)}, {KIND_NL[s.kind]}: &euro; {escape(f'{s.amount:,.2f}')}"
            + (
                " (gezamenlijk voor " + ", ".join(escape(x.label_nl) for x in s.rooms) + ")"
                if s.joint
                else ""
            )
            + "</li>"
            for s in r.subsidies
        )
        parts += [
            f"<section><h2>{escape(r.label_nl)}</h2>",
            f"<p>{escape(r.neighbourhood)}"
            + (f", {escape(r.address)}" if r.address else "")
            + "</p>",
            f"<p>Open: {hours or '&ndash;'}. "
            f"Talen: {escape(', '.join(r.languages)) or '&ndash;'}.</p>",
            f"<h3>Activiteiten en doelen</h3><ul>{activities}</ul>",
            f"<h3>Subsidie</h3><ul>{subsidies or '<li>Niet ingevoerd</li>'}</ul>",
            f"<h3>Gerealiseerd per kwartaal</h3>{_quarters(r.quarters)}</section>",
        ]
    parts.append(
        f"<section><h2>Alle kamers samen</h2>{_quarters(data.district.quarters)}</section>"
    )
    parts.append("<section><h2>Ketenpartners</h2>")
    for p in data.partners:
        activities = ", ".join(escape(a.label_nl) for a in p.activities)
        parts.append(
            f"<h3>{escape(p.label_nl)}</h3><p>"
            + (escape(p.assignment) if p.assignment else "Nog geen opdracht ingevoerd.")
            + "</p>"
            + (f"<p>Activiteiten: {activities}</p>" if activities else "")
        )
    parts.append("</section></body></html>")
    return "".join(parts)
