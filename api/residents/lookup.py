"""Reaching a resident by code: a code is not a key anyone can try.

Every code looked up that finds no one is a miss of the caller's account, kept in the
`login_failure` table as 'code:<account id>' (so the count holds across replicas). After
`code_max_misses` misses in `code_miss_window_seconds`, every lookup by code answers 429
with Retry-After until the oldest miss leaves the window. A list of codes is looked up a
few at a time, never more at once than the misses the caller has left, so no request can
look up more unknown codes than the limit allows. Every attempt leaves an audit event with
ids and counts only, never a code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import audit_event, event_row
from api.auth.models import LoginFailure
from api.auth.throttle import failures_in_window, serialise_attempts
from api.base import table, utcnow
from api.caller import Principal
from api.db import Writes
from api.errors import TooManyRequests, kept
from api.residents.models import Resident
from api.settings import Settings

_resident: Table = table(Resident)
_failure: Table = table(LoginFailure)


@dataclass(frozen=True)
class CodeLimits:
    max_misses: int
    window_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> CodeLimits:
        return cls(settings.code_max_misses, settings.code_miss_window_seconds)


@dataclass(frozen=True)
class Found:
    id: uuid.UUID
    restricted: bool


def _account(principal: Principal) -> str:
    return f"code:{principal.id}"


def audit(principal: Principal, action: str, **details: Any) -> tuple[Table, list[dict[str, Any]]]:
    """One audit event as a write for `api.db.keeping`."""
    resident_id = details.pop("resident_id", None)
    return audit_event, [
        event_row(
            actor=principal,
            action=action,
            object_type="resident" if resident_id else "account",
            object_id=resident_id or principal.id,
            resident_id=resident_id,
            details=details,
        )
    ]


async def misses_left(
    conn: AsyncConnection, principal: Principal, limits: CodeLimits, *, via: str, codes: int
) -> int:
    """How many more codes the caller may miss in the window; a 429 (on the record) when it
    has none left. Lookups of one account take turns (PostgreSQL) until the transaction
    ends, so concurrent requests cannot all spend the same misses."""
    name = _account(principal)
    await serialise_attempts(conn, name)
    count, wait = await failures_in_window(
        conn, _failure.c.username == name, limits.max_misses, limits.window_seconds, utcnow()
    )
    if wait is not None:
        raise kept(
            TooManyRequests(
                "Too many resident codes were not found; lookups by code are paused. "
                "Try again later, or look the resident up in your room's list.",
                headers={"Retry-After": str(wait)},
            ),
            [audit(principal, "resident.code_throttled", via=via, codes=codes)],
        )
    return limits.max_misses - count


async def reach_by_code(
    conn: AsyncConnection,
    principal: Principal,
    limits: CodeLimits,
    codes: list[str],
    writes: Writes,
    *,
    via: str,
    visible: Any = None,
) -> dict[str, Found]:
    """The residents with these (checked, normal) codes, looked up at most as many at a time
    as the caller has misses left; stops when none are left. Misses and the audit event go
    into `writes` (see `api.db.keeping`). `visible` narrows what counts as found (a list
    shows only residents the caller's rooms serve)."""
    distinct = list(dict.fromkeys(codes))
    left = await misses_left(conn, principal, limits, via=via, codes=len(distinct))
    found: dict[str, Found] = {}
    missed = looked_up = 0
    while looked_up < len(distinct) and left > 0:
        batch = distinct[looked_up : looked_up + left]
        query = select(_resident.c.code, _resident.c.id, _resident.c.restricted_at).where(
            _resident.c.code.in_(batch), _resident.c.erased_at.is_(None)
        )
        if visible is not None:
            query = query.where(visible)
        for code, id_, restricted_at in await conn.execute(query):
            found[code] = Found(id_, restricted_at is not None)
        looked_up += len(batch)
        batch_misses = sum(1 for c in batch if c not in found)
        missed += batch_misses
        left -= batch_misses
    now = utcnow()
    name = _account(principal)
    writes.append((_failure, [{"username": name, "address": "-", "at": now}] * missed))
    single = next(iter(found.values())).id if len(distinct) == 1 and found else None
    writes.append(
        audit(
            principal,
            "resident.code_lookup",
            via=via,
            hits=len(found),
            misses=missed,
            notLookedUp=len(distinct) - looked_up,
            resident_id=single,
        )
    )
    return found
