"""What users and partner clients share: a secret hashed off the event loop, and the end of an
account's sessions when its secret or standing changes."""

from __future__ import annotations

import uuid

import anyio
from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.accounts.models import AuthSession
from api.base import table, utcnow
from api.security import Passwords

_session: Table = table(AuthSession)


async def hash_secret(passwords: Passwords, secret: str) -> str:
    # Argon2 takes tens of milliseconds of CPU: off the event loop
    return await anyio.to_thread.run_sync(passwords.hash, secret)


async def end_sessions(
    conn: AsyncConnection, *, user_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None
) -> None:
    column = _session.c.user_id if user_id is not None else _session.c.client_id
    await conn.execute(
        update(_session)
        .where(column == (user_id or client_id), _session.c.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="account_changed")
    )
