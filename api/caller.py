"""The caller: who a request or command acts for, and how a session becomes one.

No web framework here: services, figures and the command line import this module; the web
layer (`api/deps.py`) turns a bearer token into a `Principal` with `principal_for_session`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.accounts.models import AuthSession, PartnerClient, UserAccount, UserRoom
from api.base import table, utcnow
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


_PRINCIPAL_QUERY = (
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
    .order_by(_room.c.slug)
)


async def principal_for_session(
    conn: AsyncConnection, session_id: uuid.UUID, subject: str | None = None
) -> Principal:
    rows = list(await conn.execute(_PRINCIPAL_QUERY.where(_session.c.id == session_id)))
    if not rows:
        raise InvalidToken("unknown session")
    first = rows[0]
    if first.revoked_at is not None or first.expires_at <= utcnow():
        raise InvalidToken("session ended")
    if first.user_id is not None:
        principal = Principal(
            kind="user",
            id=first.user_id,
            role=first.role,
            name=first.username,
            display_name=first.display_name,
            room_ids=frozenset(r.room_id for r in rows if r.room_id is not None),
            room_slugs=tuple(r.room_slug for r in rows if r.room_slug is not None),
            partner_id=None,
            partner_code=None,
            session_id=session_id,
        )
        active = first.user_active
    else:
        principal = Principal(
            kind="client",
            id=first.client_id,
            role="partner",
            name=first.client_name,
            display_name=first.description,
            room_ids=frozenset(),
            room_slugs=(),
            partner_id=first.partner_id,
            partner_code=first.partner_code,
            session_id=session_id,
        )
        active = first.client_active
    if not active:
        raise InvalidToken("account inactive")
    if subject is not None and subject != principal.subject:
        raise InvalidToken("subject does not match session")
    return principal
