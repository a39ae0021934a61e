"""Dutch names for the codes the document shows.

Rooms, activities and partners are named from the database (their published Dutch names);
the other codes from the one table of Dutch labels, `api/reference/labels.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.base import table
from api.reference.labels import label_nl
from api.rooms.models import Activity, Partner, Room

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
        return self.names.get(code) or label_nl(code)


async def load(conn: AsyncConnection) -> Labels:
    names: dict[str, str] = {}
    for code, name in await conn.execute(select(_room.slug, _room.name)):
        names[code] = name
    for code, name in await conn.execute(select(_activity.code, _activity.label_nl)):
        names[code] = name
    for code, name in await conn.execute(select(_partner.code, _partner.name)):
        names[code] = name
    return Labels(names)
