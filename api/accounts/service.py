"""Managing accounts: admins manage everyone, a coordinator the volunteers of its rooms."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import anyio
from sqlalchemy import Select, Table, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.accounts.models import AuthSession, PartnerClient, UserAccount, UserRoom
from api.audit.service import record, record_many
from api.base import table, utcnow
from api.caller import ROOM_ROLES, Principal
from api.errors import Conflict, Forbidden, InvalidInput, NotFound
from api.rooms import service as rooms
from api.rooms.models import Partner, Room
from api.scoping import readable_users
from api.security import Passwords, new_secret

_user: Table = table(UserAccount)
_user_room: Table = table(UserRoom)
_client: Table = table(PartnerClient)
_room: Table = table(Room)
_partner: Table = table(Partner)
_session: Table = table(AuthSession)

_USER_COLUMNS = (
    _user.c.id,
    _user.c.username,
    _user.c.display_name,
    _user.c.role,
    _user.c.active,
    _user.c.created_at,
    _user.c.updated_at,
)


async def _hash(passwords: Passwords, secret: str) -> str:
    # Argon2 takes tens of milliseconds of CPU: off the event loop
    return await anyio.to_thread.run_sync(passwords.hash, secret)


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
            {"actor": principal, "action": "user.list", "object_type": "user", "object_id": r.id}
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
    conn: AsyncConnection, principal: Principal, passwords: Passwords, data: dict[str, Any]
) -> dict[str, Any]:
    room_ids = await _room_ids(conn, data["rooms"])
    _check_rooms_for(principal, data["role"], room_ids)
    generated = None
    password = data.get("password")
    if password is None:
        password = generated = new_secret(12)
    user_id = uuid.uuid4()
    now = utcnow()
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(_user).values(
                    id=user_id,
                    username=data["username"],
                    display_name=data["display_name"],
                    role=data["role"],
                    password_hash=await _hash(passwords, password),
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise Conflict(f"The username '{data['username']}' is taken.") from None
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
        details={"role": data["role"], "rooms": data["rooms"]},
    )
    created = await get_user(conn, principal, user_id, audit=False)
    return {**created, "initial_password": generated}


async def update_user(
    conn: AsyncConnection,
    principal: Principal,
    passwords: Passwords,
    user_id: uuid.UUID,
    changes: dict[str, Any],
) -> dict[str, Any]:
    current = await get_user(conn, principal, user_id, audit=False)
    if principal.role == "coordinator":
        if user_id == principal.id:
            raise Forbidden("A coordinator does not manage its own account.")
        personal = {"password", "active", "display_name"} & set(changes)
        if personal and not set(current["rooms"]) <= set(principal.room_slugs):
            raise Forbidden("This volunteer also serves rooms you do not coordinate; ask an admin.")
    values: dict[str, Any] = {}
    if "display_name" in changes:
        values["display_name"] = changes["display_name"]
    if "active" in changes:
        values["active"] = changes["active"]
        if changes["active"] is False and user_id == principal.id:
            raise Conflict("You cannot deactivate your own account.")
    if changes.get("password") is not None:
        values["password_hash"] = await _hash(passwords, changes["password"])
    if changes.get("rooms") is not None:
        room_ids = await _room_ids(conn, changes["rooms"])
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
        details={"fields": sorted(changes)},
    )
    return await get_user(conn, principal, user_id, audit=False)


async def end_sessions(
    conn: AsyncConnection, *, user_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None
) -> None:
    column = _session.c.user_id if user_id is not None else _session.c.client_id
    await conn.execute(
        update(_session)
        .where(column == (user_id or client_id), _session.c.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="account_changed")
    )


_CLIENT_COLUMNS = (
    _client.c.id,
    _client.c.client_id,
    _client.c.description,
    _partner.c.code.label("partner"),
    _client.c.active,
    _client.c.created_at,
    _client.c.updated_at,
)


def _clients() -> Select[Any]:
    return select(*_CLIENT_COLUMNS).join(_partner, _partner.c.id == _client.c.partner_id)


async def list_clients(
    conn: AsyncConnection, *, limit: int, after: str | None, partner: str | None
) -> list[dict[str, Any]]:
    query = _clients().order_by(_client.c.client_id).limit(limit + 1)
    if after is not None:
        query = query.where(_client.c.client_id > after)
    if partner is not None:
        query = query.where(_partner.c.code == partner)
    return [dict(r._mapping) for r in await conn.execute(query)]


async def get_client(conn: AsyncConnection, client_id: uuid.UUID) -> dict[str, Any]:
    row = (await conn.execute(_clients().where(_client.c.id == client_id))).first()
    if row is None:
        raise NotFound("There is no such partner client.")
    return dict(row._mapping)


async def create_client(
    conn: AsyncConnection, principal: Principal, passwords: Passwords, data: dict[str, Any]
) -> dict[str, Any]:
    partner_id = await rooms.partner_id(conn, data["partner"])
    if partner_id is None:
        raise InvalidInput([("partner", f"unknown partner '{data['partner']}'")])
    secret = new_secret(32)
    client_pk = uuid.uuid4()
    now = utcnow()
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(_client).values(
                    id=client_pk,
                    client_id=data["client_id"],
                    description=data["description"],
                    partner_id=partner_id,
                    secret_hash=await _hash(passwords, secret),
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise Conflict(f"The client id '{data['client_id']}' is taken.") from None
    await record(
        conn,
        actor=principal,
        action="client.create",
        object_type="client",
        object_id=client_pk,
        details={"partner": data["partner"]},
    )
    return {**await get_client(conn, client_pk), "client_secret": secret}


async def update_client(
    conn: AsyncConnection, principal: Principal, client_id: uuid.UUID, changes: dict[str, Any]
) -> dict[str, Any]:
    await get_client(conn, client_id)
    if changes:
        await conn.execute(
            update(_client).where(_client.c.id == client_id).values(**changes, updated_at=utcnow())
        )
    if changes.get("active") is False:
        await end_sessions(conn, client_id=client_id)
    await record(
        conn,
        actor=principal,
        action="client.update",
        object_type="client",
        object_id=client_id,
        details={"fields": sorted(changes)},
    )
    return await get_client(conn, client_id)


async def rotate_client_secret(
    conn: AsyncConnection, principal: Principal, passwords: Passwords, client_id: uuid.UUID
) -> dict[str, Any]:
    await get_client(conn, client_id)
    secret = new_secret(32)
    await conn.execute(
        update(_client)
        .where(_client.c.id == client_id)
        .values(secret_hash=await _hash(passwords, secret), updated_at=utcnow())
    )
    await end_sessions(conn, client_id=client_id)
    await record(
        conn,
        actor=principal,
        action="client.rotate_secret",
        object_type="client",
        object_id=client_id,
    )
    return {**await get_client(conn, client_id), "client_secret": secret}
