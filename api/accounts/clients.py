"""Partner systems' API clients, managed by admins."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.accounts.credentials import end_sessions, hash_secret
from api.accounts.models import PartnerClient
from api.accounts.schemas import ClientCreate, ClientUpdate
from api.audit.service import record
from api.base import table, utcnow
from api.caller import Principal
from api.errors import Conflict, InvalidInput, NotFound
from api.rooms import service as rooms
from api.rooms.models import Partner
from api.security import Passwords, new_secret

_client: Table = table(PartnerClient)
_partner: Table = table(Partner)

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
    conn: AsyncConnection, principal: Principal, passwords: Passwords, body: ClientCreate
) -> dict[str, Any]:
    partner_id = await rooms.partner_id(conn, body.partner)
    if partner_id is None:
        raise InvalidInput([("partner", f"unknown partner '{body.partner}'")])
    secret = new_secret(32)
    client_pk = uuid.uuid4()
    now = utcnow()
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(_client).values(
                    id=client_pk,
                    client_id=body.client_id,
                    description=body.description,
                    partner_id=partner_id,
                    secret_hash=await hash_secret(passwords, secret),
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise Conflict(f"The client id '{body.client_id}' is taken.") from None
    await record(
        conn,
        actor=principal,
        action="client.create",
        object_type="client",
        object_id=client_pk,
        details={"partner": body.partner},
    )
    return {**await get_client(conn, client_pk), "client_secret": secret}


async def update_client(
    conn: AsyncConnection, principal: Principal, client_id: uuid.UUID, body: ClientUpdate
) -> dict[str, Any]:
    """Changes the fields the body names (a PATCH: the ones left out stay as they are)."""
    changes = body.model_dump(exclude_unset=True)
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
        .values(secret_hash=await hash_secret(passwords, secret), updated_at=utcnow())
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
