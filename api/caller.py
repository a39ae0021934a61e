"""The caller: who a request or command acts for, and how a session becomes one.

No web framework here: services, figures and the command line import this module; the web
layer (`api/deps.py`) turns a bearer token into a `Principal` with `principal_for_session`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.accounts.models import AuthSession, PartnerClient, UserAccount, UserRoom
from api.base import table, utcnow
from api.db import Prepared
from api.rooms.models import Partner, Room
from api.security import InvalidToken

Role = Literal["volunteer", "coordinator", "stadsdeel", "partner", "admin"]
# the roles that read the figures of every room (and no one's personal data)
DISTRICT_ROLES: frozenset[Role] = frozenset({"stadsdeel", "admin"})
# the roles that work for rooms
ROOM_ROLES: frozenset[Role] = frozenset({"volunteer", "coordinator"})

_session: Table = table(AuthSession)
_user: Table = table(UserAccount)
_user_room: Table = table(UserRoom)
_client: Table = table(PartnerClient)
_room: Table = table(Room)
_partner: Table = table(Partner)


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["user", "client", "system"]
    id: uuid.UUID
    role: str
    name: str  # username or client id
    display_name: str
    room_ids: frozenset[int]
    room_slugs: tuple[str, ...]
    partner_id: int | None
    partner_code: str | None
    session_id: uuid.UUID

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.id}"


# The operator at the command line (`bwk users add`): admin rights, audited as "system".
SYSTEM = Principal(
    kind="system",
    id=uuid.UUID(int=0),
    role="admin",
    name="bwk-cli",
    display_name="command line",
    room_ids=frozenset(),
    room_slugs=(),
    partner_id=None,
    partner_code=None,
    session_id=uuid.UUID(int=0),
)


# Every signed-in request runs this: built and compiled once (a prepared statement of the
# driver on PostgreSQL). One row per room of the account; the session, account and partner
# columns repeat. Nothing of it is kept between requests: a revoked session or a changed
# role counts from the next request on.
_PRINCIPAL_QUERY = Prepared(
    select(
        _session.c.user_id,
        _session.c.client_id,
        _session.c.expires_at,
        _session.c.revoked_at,
        _user.c.username,
        _user.c.display_name,
        _user.c.role,
        _user.c.active.label("user_active"),
        _room.c.id.label("room_id"),
        _room.c.slug.label("room_slug"),
        _client.c.client_id.label("client_name"),
        _client.c.description,
        _client.c.active.label("client_active"),
        _partner.c.id.label("partner_id"),
        _partner.c.code.label("partner_code"),
    )
    .select_from(_session)
    .outerjoin(_user, _user.c.id == _session.c.user_id)
    .outerjoin(_user_room, _user_room.c.user_id == _user.c.id)
    .outerjoin(_room, _room.c.id == _user_room.c.room_id)
    .outerjoin(_client, _client.c.id == _session.c.client_id)
    .outerjoin(_partner, _partner.c.id == _client.c.partner_id)
    .where(_session.c.id == bindparam("session_id"))
    .order_by(_room.c.slug),
    reads=True,
)


async def principal_for_session(
    conn: AsyncConnection, session_id: uuid.UUID, subject: str | None = None
) -> Principal:
    rows = await _PRINCIPAL_QUERY.rows(conn, {"session_id": session_id})
    if not rows:
        raise InvalidToken("unknown session")
    (
        user_id,
        client_id,
        expires_at,
        revoked_at,
        username,
        display_name,
        role,
        user_active,
        _,
        _,
        client_name,
        description,
        client_active,
        partner_id,
        partner_code,
    ) = rows[0]
    if revoked_at is not None or expires_at <= utcnow():
        raise InvalidToken("session ended")
    if user_id is not None:
        principal = Principal(
            kind="user",
            id=user_id,
            role=role,
            name=username,
            display_name=display_name,
            room_ids=frozenset(r[8] for r in rows if r[8] is not None),
            room_slugs=tuple(r[9] for r in rows if r[9] is not None),
            partner_id=None,
            partner_code=None,
            session_id=session_id,
        )
        active = user_active
    else:
        principal = Principal(
            kind="client",
            id=client_id,
            role="partner",
            name=client_name,
            display_name=description,
            room_ids=frozenset(),
            room_slugs=(),
            partner_id=partner_id,
            partner_code=partner_code,
            session_id=session_id,
        )
        active = client_active
    if not active:
        raise InvalidToken("account inactive")
    if subject is not None and subject != principal.subject:
        raise InvalidToken("subject does not match session")
    return principal
