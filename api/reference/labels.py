"""Dutch labels (`labelNl`) for every code the figures name: rooms, activities, indicators,
instruments, matrix domains and referral reasons. One place: the rooms and activities come
from the reference CSVs beside this file, the other codes from the table below.

    from api.reference.labels import label_nl
    label_nl("forms")  # "Formulieren"
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources
from typing import TypeVar

# indicators, instruments, matrix domains, referral reasons and the like: code -> Dutch
CODES: dict[str, str] = {
    # indicators beside the activities
    "unique-visitors": "Unieke bezoekers",
    "ladder-up": "Stijging op de participatieladder",
    "zrm-up": "Stijging op de zelfredzaamheidsmatrix",
    "became-volunteer": "Nieuwe vrijwilligers",
    # instruments
    "participation-ladder": "Participatieladder",
    "zrm": "Zelfredzaamheidsmatrix",
    # the 13 domains of the self-sufficiency matrix
    "finances": "Financiën",
    "work-and-education": "Werk en opleiding",
    "time-use": "Tijdsbesteding",
    "housing": "Huisvesting",
    "domestic-relations": "Huiselijke relaties",
    "mental-health": "Geestelijke gezondheid",
    "physical-health": "Lichamelijke gezondheid",
    "substance-use": "Middelengebruik",
    "basic-adl": "Basale ADL",
    "instrumental-adl": "Instrumentele ADL",
    "social-network": "Sociaal netwerk",
    "social-participation": "Maatschappelijke participatie",
    "justice": "Justitie",
    # referral reasons
    "no-capacity": "Geen plek",
    "not-eligible": "Komt niet in aanmerking",
    "resident-declined": "Bewoner zag ervan af",
    "could-not-reach": "Niet bereikt",
    "other": "Anders",
    # the district as a row
    "totaal": "Totaal",
    # counting units
    "services": "diensten",
    "participants": "deelnemers",
    # referral directions and states
    "outgoing": "uitgaand",
    "incoming": "inkomend",
    "sent": "verstuurd",
    "accepted": "geaccepteerd",
    "declined": "afgewezen",
    "withdrawn": "ingetrokken",
    "completed": "afgerond",
    "no_show": "niet verschenen",
    # why an efficiency figure is null
    "staff": "Personeel",
    "not-entered": "niet ingevoerd",
    "not-kept-per-room": "niet per kamer bijgehouden",
    "no-budget": "geen begroting voor dit jaar",
    "joint-grant": "gezamenlijke subsidie voor meerdere kamers",
    "hidden": "verborgen (onthullingscontrole)",
    "no-costs": "geen kosten",
    "no-fte": "geen fte",
    "no-visitors": "geen bezoekers",
    "no-target": "geen doel afgesproken",
    "no-services": "geen diensten",
}


def _sheet(name: str) -> list[dict[str, str]]:
    text = resources.files("api.reference").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def labels() -> dict[str, str]:
    """Every code with its Dutch label: rooms (their names), activities, the codes above."""
    found = {r["slug"]: r["name"] for r in _sheet("rooms.csv")}
    found.update({r["code"]: r["label_nl"] for r in _sheet("activities.csv")})
    found.update({r["code"]: r["name"] for r in _sheet("partners.csv")})
    found.update(CODES)
    return found


def label_nl(code: str) -> str:
    """The Dutch label of a code; a code without one (a room added later) shows as itself."""
    return labels().get(code, code)


# the members whose value is a code with a Dutch label: an object holding one gets `label_nl`
LABELLED = ("room", "activity", "indicator", "instrument", "domain", "partner", "reason")

T = TypeVar("T")


def with_labels(data: T) -> T:
    """`data` with `label_nl` beside the code in every object that names a room, activity,
    indicator, instrument, matrix domain, partner or reason (the first of these it holds).
    Changes the dicts in place and returns `data`."""
    if isinstance(data, dict):
        code = next((data[k] for k in LABELLED if isinstance(data.get(k), str)), None)
        if code is not None:
            data["label_nl"] = label_nl(code)
        for value in data.values():
            with_labels(value)
    elif isinstance(data, list):
        for item in data:
            with_labels(item)
    return data
