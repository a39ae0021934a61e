"""Reference data from api/reference/ (copied from the district's report) and demo data.

Seeding inserts what is missing and never overwrites: seeding twice changes nothing, and
an admin's later edits to a room survive a re-seed.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy import Connection, Table, select

from api.accounts.models import PartnerClient, UserAccount, UserRoom
from api.base import table, utcnow
from api.budgets.models import BudgetLine, StaffAllocation, SubsidyGrant, SubsidyGrantRoom
from api.indicators.models import Target
from api.rooms.models import Activity, Partner, Room, RoomActivity
from api.security import Passwords
from api.settings import Settings, get_settings

# The report names no addresses or opening hours; admins fill them in (PATCH /rooms/{slug}).
# Every room helps "in English if that is your language" (the shared DNA).
DEFAULT_LANGUAGES = ["nl", "en"]


def _csv(name: str) -> Iterator[dict[str, str]]:
    text = resources.files("api.reference").joinpath(name).read_text(encoding="utf-8")
    yield from csv.DictReader(text.splitlines())


def _opened_on(value: str) -> date:
    year, _, month = value.partition("-")
    return date(int(year), int(month or 1), 1)


def _insert_missing(conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> int:
    existing = set(conn.execute(select(table.c[key])).scalars())
    new = [row for row in rows if row[key] not in existing]
    if new:
        conn.execute(table.insert(), new)
    return len(new)


def _ids(conn: Connection, table: Table, key: str) -> dict[str, int]:
    return {k: i for k, i in conn.execute(select(table.c[key], table.c.id))}  # noqa: C416


def seed_reference(conn: Connection) -> dict[str, int]:
    activity: Table = table(Activity)
    room: Table = table(Room)
    partner: Table = table(Partner)
    room_activity: Table = table(RoomActivity)
    counts = {
        "activities": _insert_missing(
            conn,
            activity,
            "code",
            [
                {
                    "code": r["code"],
                    "label_nl": r["label_nl"],
                    "label_en": r["label_en"],
                    "target_unit": r["target_unit"],
                    "position": i,
                }
                for i, r in enumerate(_csv("activities.csv"), start=1)
            ],
        ),
        "rooms": _insert_missing(
            conn,
            room,
            "slug",
            [
                {
                    "slug": r["slug"],
                    "name": r["name"],
                    "neighbourhood": r["neighbourhood"],
                    "opened_on": _opened_on(r["opened"]),
                    "subsidy": r["subsidy"],
                    "languages": DEFAULT_LANGUAGES,
                    "opening_hours": [],
                }
                for r in _csv("rooms.csv")
            ],
        ),
        "partners": _insert_missing(
            conn,
            partner,
            "code",
            [
                {"code": r["code"], "name": r["name"], "kind": r["kind"]}
                for r in _csv("partners.csv")
            ],
        ),
    }
    # Every room offers all eight activities: the 2019 agreements set a target for each.
    existing = set(conn.execute(select(room_activity.c.room_id, room_activity.c.activity_id)))
    offered = [
        {"room_id": r, "activity_id": a}
        for r in _ids(conn, room, "slug").values()
        for a in _ids(conn, activity, "code").values()
        if (r, a) not in existing
    ]
    if offered:
        conn.execute(room_activity.insert(), offered)
    return counts


def seed_targets(conn: Connection) -> int:
    target: Table = table(Target)
    room_ids = _ids(conn, table(Room), "slug")
    existing = set(conn.execute(select(target.c.year, target.c.room_id, target.c.indicator)))
    rows = [
        {
            "year": int(r["year"]),
            "room_id": room_ids[r["room"]],
            "indicator": r["indicator"],
            "unit": r["unit"],
            "value": int(r["value"]),
        }
        for r in _csv("targets-2019.csv")
    ]
    new = [r for r in rows if (r["year"], r["room_id"], r["indicator"]) not in existing]
    if new:
        conn.execute(target.insert(), new)
    return len(new)


# "Inzet (staff)" in the budget: the line's name, then the report's category in brackets
_COST_LINE = re.compile(r"^(?P<name>.*?)\s*\((?P<category>staff|housing|other)\)$")


def _cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


def seed_budgets(conn: Connection) -> dict[str, int]:
    """The 2019 budget, grants and staff of the report (§3.1.3), for a year that has none."""
    line, grant, grant_room = table(BudgetLine), table(SubsidyGrant), table(SubsidyGrantRoom)
    staff = table(StaffAllocation)
    room_ids = _ids(conn, table(Room), "slug")
    years = {
        *conn.execute(select(line.c.year)).scalars(),
        *conn.execute(select(grant.c.year)).scalars(),
        *conn.execute(select(staff.c.year)).scalars(),
    }
    counts = {"budget lines": 0, "subsidy grants": 0, "staff functions": 0}
    for r in _csv("budget-2019.csv"):
        if int(r["year"]) in years:
            continue
        cost = _COST_LINE.match(r["line"]) if r["kind"] == "cost" else None
        conn.execute(
            line.insert().values(
                year=int(r["year"]),
                kind=r["kind"],
                category=cost["category"] if cost else None,
                name=cost["name"] if cost else r["line"],
                amount_cents=_cents(r["amount_eur"]),
            )
        )
        counts["budget lines"] += 1
    for r in _csv("subsidies-2019.csv"):
        if int(r["year"]) in years:
            continue
        grant_id = conn.execute(
            grant.insert()
            .values(
                year=int(r["year"]),
                grantor=r["grantor"],
                kind=r["kind"],
                amount_cents=_cents(r["amount_eur"]),
            )
            .returning(grant.c.id)
        ).scalar_one()
        conn.execute(
            grant_room.insert(),
            [{"grant_id": grant_id, "room_id": room_ids[s]} for s in r["rooms"].split(";")],
        )
        counts["subsidy grants"] += 1
    rows = [
        {
            "year": int(r["year"]),
            "room_id": room_ids[r["room"]],
            "function": r["function"],
            "fte_hundredths": int(Decimal(r["fte"]) * 100),
        }
        for r in _csv("staff-2019.csv")
        if int(r["year"]) not in years
    ]
    if rows:
        conn.execute(staff.insert(), rows)
    counts["staff functions"] = len(rows)
    return counts


DEMO_PASSWORD = "demo-password"  # noqa: S105 - published in the API contract, demo mode only
DEMO_SECRET = "demo-secret"  # noqa: S105
DEMO_PARTNERS = ("madi", "pbazo", "pozo", "venzo")


def seed_demo_accounts(conn: Connection, settings: Settings | None = None) -> dict[str, int]:
    """The contract's demo accounts. Only demo mode may call this (the CLI checks)."""
    settings = settings or get_settings()
    passwords = Passwords(settings)
    user: Table = table(UserAccount)
    user_room: Table = table(UserRoom)
    client: Table = table(PartnerClient)
    rooms = _ids(conn, table(Room), "slug")
    partners = _ids(conn, table(Partner), "code")
    wanted: list[tuple[str, str, str, list[int]]] = [
        ("admin", "Demo admin", "admin", []),
        ("stadsdeel", "Demo district officer", "stadsdeel", []),
    ]
    for slug, room_id in sorted(rooms.items()):
        wanted.append((f"coordinator.{slug}", f"Demo coordinator {slug}", "coordinator", [room_id]))
        wanted.append((f"volunteer.{slug}", f"Demo volunteer {slug}", "volunteer", [room_id]))
    existing = set(conn.execute(select(user.c.username)).scalars())
    now = utcnow()
    password_hash = passwords.hash(DEMO_PASSWORD)
    users = 0
    for username, display, role, room_ids in wanted:
        if username in existing:
            continue
        user_id = uuid.uuid4()
        conn.execute(
            user.insert().values(
                id=user_id,
                username=username,
                display_name=display,
                role=role,
                password_hash=password_hash,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
        for room_id in room_ids:
            conn.execute(user_room.insert().values(user_id=user_id, room_id=room_id))
        users += 1
    existing_clients = set(conn.execute(select(client.c.client_id)).scalars())
    secret_hash = passwords.hash(DEMO_SECRET)
    clients = 0
    for code in DEMO_PARTNERS:
        if code in existing_clients:
            continue
        conn.execute(
            client.insert().values(
                id=uuid.uuid4(),
                client_id=code,
                description=f"Demo system of {code}",
                partner_id=partners[code],
                secret_hash=secret_hash,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
        clients += 1
    return {"demo users": users, "demo partner clients": clients}


def demo_accounts_present(conn: Connection, passwords: Passwords) -> list[str]:
    """Accounts that still carry the published demo password or secret."""
    user: Table = table(UserAccount)
    client: Table = table(PartnerClient)
    found = []
    for name, stored in conn.execute(select(user.c.username, user.c.password_hash)):
        if passwords.verify(DEMO_PASSWORD, stored)[0]:
            found.append(name)
    for name, stored in conn.execute(
        select(client.c.client_id, client.c.secret_hash).where(
            client.c.client_id.in_(DEMO_PARTNERS)
        )
    ):
        if passwords.verify(DEMO_SECRET, stored)[0]:
            found.append(name)
    return found
