"""Idempotency-Key for POSTs a client may retry.

The key is claimed in its own short transaction, so a concurrent retry sees it at once
(409 while the first runs). The first answer is stored in the same transaction as the
change it reports, so either both are kept or neither. A claim whose request died (a killed
server) is taken over once its lock has run out; a failed request gives its key back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.base import table, utcnow
from api.errors import Conflict, Unprocessable
from api.idempotency.models import IdempotencyRecord

_record: Table = table(IdempotencyRecord)
LOCK = timedelta(seconds=60)
KEEP = timedelta(hours=24)


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{method} {path} ".encode() + canonical).hexdigest()


async def claim(engine: AsyncEngine, subject: str, key: str, print_: str) -> Replay | None:
    """Take the key for this request, or say what the earlier request with it answered."""
    now = utcnow()
    fresh = {
        "fingerprint": print_,
        "status_code": None,
        "body": None,
        "created_at": now,
        "locked_until": now + LOCK,
        "expires_at": now + KEEP,
    }
    async with engine.begin() as conn:
        try:
            async with conn.begin_nested():
                await conn.execute(insert(_record).values(subject=subject, key=key, **fresh))
            return None
        except IntegrityError:
            pass
        row = (
            await conn.execute(
                select(
                    _record.c.fingerprint,
                    _record.c.status_code,
                    _record.c.body,
                    _record.c.locked_until,
                    _record.c.expires_at,
                ).where(_record.c.subject == subject, _record.c.key == key)
            )
        ).first()
        if row is None:  # given back in between: ours now
            await conn.execute(insert(_record).values(subject=subject, key=key, **fresh))
            return None
        expired = row.expires_at <= now
        abandoned = row.status_code is None and row.locked_until <= now
        if expired or abandoned:
            taken = await conn.execute(
                update(_record)
                .where(
                    _record.c.subject == subject,
                    _record.c.key == key,
                    _record.c.locked_until == row.locked_until,
                )
                .values(**fresh)
            )
            if taken.rowcount == 1:
                return None
            raise Conflict("A request with this Idempotency-Key is still being handled.")
        if row.fingerprint != print_:
            raise Unprocessable(
                "This Idempotency-Key was used for a different request; use a new key."
            )
        if row.status_code is None:
            raise Conflict(
                "A request with this Idempotency-Key is still being handled; retry shortly.",
                headers={"Retry-After": "1"},
            )
        return Replay(row.status_code, row.body)


async def complete(
    conn: AsyncConnection, subject: str, key: str, status_code: int, body: Any
) -> None:
    """Store the answer in the request's own transaction."""
    await conn.execute(
        update(_record)
        .where(_record.c.subject == subject, _record.c.key == key)
        .values(status_code=status_code, body=body)
    )


async def release(engine: AsyncEngine, subject: str, key: str) -> None:
    """Give the key back after a failed request, so that a retry is handled afresh."""
    async with engine.begin() as conn:
        await conn.execute(
            delete(_record).where(
                _record.c.subject == subject, _record.c.key == key, _record.c.status_code.is_(None)
            )
        )
