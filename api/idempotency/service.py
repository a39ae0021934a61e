"""Idempotency-Key for POSTs a client may retry.

The key is claimed by the request's own transaction, as its first write: a row per caller and
key, with the body's fingerprint, which the same transaction fills in with the answer. So the
claim lives and dies with the write it guards:

- the write commits: the key and its answer are kept (24 hours), and a retry gets the answer;
- the write fails, or its server dies: the transaction rolls back (PostgreSQL rolls back a
  dead client's transaction itself; SQLite never wrote it), and nothing stays claimed, so a
  retry is handled afresh as soon as a server answers;
- a duplicate arrives while the first still runs: its INSERT waits for the first's transaction
  (PostgreSQL waits on the key's unique index entry; SQLite lets one writer at a time hold the
  database), then replays the first's answer, or takes the key when the first rolled back.

The wait is bounded by the database's own limits: PostgreSQL's lock and statement timeouts
(`BWK_DB_STATEMENT_TIMEOUT_MS`, 5 s) end it with a 409 and `Retry-After`, since the first
request is then still running; SQLite's busy timeout (5 s) ends it with the 503 that any write
gets from a database that stays locked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Table, bindparam, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.base import table, utcnow
from api.errors import Conflict, Unprocessable
from api.idempotency.models import IdempotencyRecord

_record: Table = table(IdempotencyRecord)
KEEP = timedelta(hours=24)
_TIMED_OUT = frozenset({"55P03", "57014"})  # PostgreSQL: lock timeout, statement timeout


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{method} {path} ".encode() + canonical).hexdigest()


def _claim_statement(insert: Any) -> Any:
    """INSERT the key; over a row that expired, or that a finished request left without an
    answer, start afresh; RETURNING a row only when the key is now this request's."""
    claim = insert(_record)
    return claim.on_conflict_do_update(
        index_elements=[_record.c.subject, _record.c.key],
        set_={
            "fingerprint": claim.excluded.fingerprint,
            "status_code": null(),
            "body": null(),
            "created_at": claim.excluded.created_at,
            "expires_at": claim.excluded.expires_at,
        },
        where=(_record.c.expires_at <= claim.excluded.created_at) | _record.c.status_code.is_(None),
    ).returning(_record.c.key)


# built once: nothing is constructed or cache-keyed per request
_CLAIM = {
    "postgresql": _claim_statement(postgresql.insert),
    "sqlite": _claim_statement(sqlite.insert),
}
_ANSWER = select(_record.c.fingerprint, _record.c.status_code, _record.c.body).where(
    _record.c.subject == bindparam("b_subject"), _record.c.key == bindparam("b_key")
)
_COMPLETE = update(_record).where(
    _record.c.subject == bindparam("b_subject"), _record.c.key == bindparam("b_key")
)


async def claim(conn: AsyncConnection, subject: str, key: str, print_: str) -> Replay | None:
    """Take the key in the request's transaction, or say what the request that has it
    answered. Waits while another request with the key is still running."""
    now = utcnow()
    values = {
        "subject": subject,
        "key": key,
        "fingerprint": print_,
        "created_at": now,
        "expires_at": now + KEEP,
    }
    claim = _CLAIM[conn.dialect.name]
    for _ in range(3):  # a row removed between the two statements (erasure, purge): again
        try:
            taken = (await conn.execute(claim, values)).first()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in _TIMED_OUT:
                raise _still_running() from None
            raise
        if taken is not None:
            return None
        # the key was taken by a request that has committed with its answer
        row = (await conn.execute(_ANSWER, {"b_subject": subject, "b_key": key})).first()
        if row is None:
            continue
        if row.fingerprint != print_:
            raise Unprocessable(
                "This Idempotency-Key was used for a different request; use a new key."
            )
        return Replay(row.status_code, row.body)
    raise _still_running()


def _still_running() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still being handled; retry shortly.",
        headers={"Retry-After": "1"},
    )


async def complete(
    conn: AsyncConnection, subject: str, key: str, status_code: int, body: Any
) -> None:
    """Store the answer in the request's own transaction, beside the claim."""
    await conn.execute(
        _COMPLETE,
        {"b_subject": subject, "b_key": key, "status_code": status_code, "body": body},
    )
