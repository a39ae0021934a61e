"""Dutch names for the codes the document shows.

Rooms, activities and partners are named from the database (their published Dutch names);
the other codes from the tables below. When the JSON answers carry `labelNl` (issue 14 item
5), `dutch()` can take those instead; the document asks nothing else of this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.base import table
from api.rooms.models import Activity, Partner, Room

CODES: dict[str, str] = {
    "unique-visitors": "Unieke bezoekers",
    "services": "diensten",
    "participants": "deelnemers",
    # referrals
    "outgoing": "uitgaand",
    "incoming": "inkomend",
    "sent": "verstuurd",
    "accepted": "geaccepteerd",
    "declined": "afgewezen",
    "withdrawn": "ingetrokken",
    "completed": "afgerond",
    "no_show": "niet verschenen",
    "no-capacity": "geen plek",
    "not-eligible": "komt niet in aanmerking",
    "resident-declined": "bewoner zag af",
    "could-not-reach": "niet bereikt",
    "other": "anders",
    # outcomes
    "participation-ladder": "Participatieladder",
    "zrm": "Zelfredzaamheidsmatrix (ZRM)",
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
    # money (cost categories; `housing` above is the matrix domain, see COST_CATEGORIES)
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
COST_CATEGORIES = {"staff": "Personeel", "housing": "Huisvesting", "other": "Overig"}

_activity = table(Activity).c
_room = table(Room).c
_partner = table(Partner).c


@dataclass
class Labels:
    names: dict[str, str] = field(default_factory=dict)

    def dutch(self, code: str | None) -> str:
        if code is None:
            return ""
        return self.names.get(code) or CODES.get(code) or code


async def load(conn: AsyncConnection) -> Labels:
    names: dict[str, str] = {}
    for code, name in await conn.execute(select(_room.slug, _room.name)):
        names[code] = name
    for code, name in await conn.execute(select(_activity.code, _activity.label_nl)):
        names[code] = name
    for code, name in await conn.execute(select(_partner.code, _partner.name)):
        names[code] = name
    return Labels(names)
