"""Staff accounts: admins manage everyone, a coordinator the volunteers of its rooms."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import Table, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.accounts.credentials import end_sessions, hash_secret
from api.accounts.models import UserAccount, UserRoom
from api.accounts.schemas import UserCreate, UserUpdate
from api.audit.service import Event, record, record_many
from api.base import table, utcnow
from api.caller import ROOM_ROLES, Principal
from api.errors import Conflict, Forbidden, InvalidInput, NotFound
from api.rooms.models import Room
from api.scoping import readable_users
from api.security import Passwords, new_secret

_user: Table = table(UserAccount)
_user_room: Table = table(UserRoom)
_room: Table = table(Room)

_USER_COLUMNS = (
    _user.c.id,
    _user.c.username,
    _user.c.display_name,
    _user.c.role,
    _user.c.active,
    _user.c.created_at,
    _user.c.updated_at,
)


async def _rooms_of(conn: AsyncConnection, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    rooms: dict[uuid.UUID, list[str]] = defaultdict(list)
    if user_ids:
        result = await conn.execute(
            select(_user_room.c.user_id, _room.c.slug)
            .join(_room, _room.c.id == _user_room.c.room_id)
            .where(_user_room.c.user_id.in_(user_ids))
            .order_by(_room.c.slug)
        )
        for user_id, slug in result:
            rooms[user_id].append(slug)
    return rooms


async def list_users(
    conn: AsyncConnection,
    principal: Principal,
    *,
    limit: int,
    after: str | None,
    role: str | None,
    room: str | None,
) -> list[dict[str, Any]]:
    query = readable_users(principal, *_USER_COLUMNS).order_by(_user.c.username).limit(limit + 1)
    if after is not None:
        query = query.where(_user.c.username > after)
    if role is not None:
        query = query.where(_user.c.role == role)
    if room is not None:
        query = query.where(
            exists().where(
                _user_room.c.user_id == _user.c.id,
                _user_room.c.room_id == _room.c.id,
                _room.c.slug == room,
            )
        )
    rows = list(await conn.execute(query))
    # who looked at whose account: one event per account shown, in one statement
    await record_many(
        conn,
        [
            Event(actor=principal, action="user.list", object_type="user", object_id=r.id)
            for r in rows[:limit]
        ],
    )
    rooms = await _rooms_of(conn, [r.id for r in rows])
    return [{**r._mapping, "rooms": rooms[r.id]} for r in rows]


async def get_user(
    conn: AsyncConnection, principal: Principal, user_id: uuid.UUID, *, audit: bool = True
) -> dict[str, Any]:
    row = (
        await conn.execute(readable_users(principal, *_USER_COLUMNS).where(_user.c.id == user_id))
    ).first()
    if row is None:
        raise NotFound("There is no such account.")
    if audit:
        await record(
            conn, actor=principal, action="user.read", object_type="user", object_id=user_id
        )
    return {**row._mapping, "rooms": (await _rooms_of(conn, [row.id]))[row.id]}


async def _room_ids(conn: AsyncConnection, slugs: list[str]) -> list[int]:
    found = dict(
        (await conn.execute(select(_room.c.slug, _room.c.id).where(_room.c.slug.in_(slugs)))).all()
    )
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise InvalidInput([("rooms", f"unknown room '{s}'") for s in unknown])
    return [found[s] for s in dict.fromkeys(slugs)]


def _check_rooms_for(principal: Principal, role: str, room_ids: list[int]) -> None:
    if role in ROOM_ROLES and not room_ids:
        raise InvalidInput([("rooms", f"a {role} serves at least one room")])
    if role not in ROOM_ROLES and room_ids:
        raise InvalidInput([("rooms", f"a {role} account has no rooms")])
    if principal.role == "coordinator":
        if role != "volunteer":
            raise Forbidden("A coordinator manages volunteers only.")
        if not set(room_ids) <= principal.room_ids:
            raise Forbidden("A coordinator manages volunteers of its own rooms only.")


async def create_user(
    conn: AsyncConnection, principal: Principal, passwords: Passwords, body: UserCreate
) -> dict[str, Any]:
    room_ids = await _room_ids(conn, body.rooms)
    _check_rooms_for(principal, body.role, room_ids)
    generated = None
    password = body.password
    if password is None:
        password = generated = new_secret(12)
    user_id = uuid.uuid4()
    now = utcnow()
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(_user).values(
                    id=user_id,
                    username=body.username,
                    display_name=body.display_name,
                    role=body.role,
                    password_hash=await hash_secret(passwords, password),
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise Conflict(f"The username '{body.username}' is taken.") from None
    if room_ids:
        await conn.execute(
            insert(_user_room), [{"user_id": user_id, "room_id": r} for r in room_ids]
        )
    await record(
        conn,
        actor=principal,
        action="user.create",
        object_type="user",
        object_id=user_id,
        details={"role": body.role, "rooms": body.rooms},
    )
    created = await get_user(conn, principal, user_id, audit=False)
    return {**created, "initial_password": generated}


async def update_user(
    conn: AsyncConnection,
    principal: Principal,
    passwords: Passwords,
    user_id: uuid.UUID,
    body: UserUpdate,
) -> dict[str, Any]:
    """Changes the fields the body names (a PATCH: the ones left out stay as they are)."""
    changed = body.model_fields_set
    current = await get_user(conn, principal, user_id, audit=False)
    if principal.role == "coordinator":
        if user_id == principal.id:
            raise Forbidden("A coordinator does not manage its own account.")
        personal = {"password", "active", "display_name"} & changed
        if personal and not set(current["rooms"]) <= set(principal.room_slugs):
            raise Forbidden("This volunteer also serves rooms you do not coordinate; ask an admin.")
    values: dict[str, Any] = {}
    if "display_name" in changed:
        values["display_name"] = body.display_name
    if "active" in changed:
        values["active"] = body.active
        if body.active is False and user_id == principal.id:
            raise Conflict("You cannot deactivate your own account.")
    if body.password is not None:
        values["password_hash"] = await hash_secret(passwords, body.password)
    if body.rooms is not None:
        room_ids = await _room_ids(conn, body.rooms)
        _check_rooms_for(principal, current["role"], room_ids)
        if principal.role == "coordinator":
            # rooms outside the coordinator's stay as they were
            kept = await conn.execute(
                select(_user_room.c.room_id).where(
                    _user_room.c.user_id == user_id,
                    _user_room.c.room_id.not_in(principal.room_ids),
                )
            )
            room_ids = sorted(set(room_ids) | set(kept.scalars()))
        await conn.execute(delete(_user_room).where(_user_room.c.user_id == user_id))
        await conn.execute(
            insert(_user_room), [{"user_id": user_id, "room_id": r} for r in room_ids]
        )
    if values:
        values["updated_at"] = utcnow()
        await conn.execute(update(_user).where(_user.c.id == user_id).values(**values))
    if values.get("active") is False or "password_hash" in values:
        await end_sessions(conn, user_id=user_id)
    await record(
        conn,
        actor=principal,
        action="user.update",
        object_type="user",
        object_id=user_id,
        details={"fields": sorted(changed)},
    )
    return await get_user(conn, principal, user_id, audit=False)
