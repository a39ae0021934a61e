"""The Idempotency-Key dependency. The key is claimed on the request's own connection, in its
transaction: when the request fails, the rollback gives the key back with everything else."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import record
from api.caller import Principal
from api.deps import Connection
from api.idempotency import service

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class Idempotency:
    def __init__(self, request: Request, conn: AsyncConnection, key: str | None) -> None:
        self.request = request
        self.conn = conn
        self.key = key
        self.subject: str | None = None

    async def begin(
        self, principal: Principal, payload: Any, *, object_type: str
    ) -> Response | None:
        """None to go on (the key is now this request's); a stored answer to send again when
        this is a retry. Waits while a request with the same key is still running.
        `object_type` names what the answer shows: a replay of it is a look at that object,
        on the record (in the request's transaction)."""
        if self.key is None:
            return None
        fingerprint = service.fingerprint(self.request.method, self.request.url.path, payload)
        replay = await service.claim(self.conn, principal.subject, self.key, fingerprint)
        if replay is not None:
            await record(self.conn, **_replay_event(principal, object_type, replay))
            return JSONResponse(
                replay.body,
                status_code=replay.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        self.subject = principal.subject
        return None

    async def complete(
        self, conn: AsyncConnection, status_code: int, model: type[BaseModel], answer: Any
    ) -> Any:
        """Keep the answer for retries (in the request's transaction); returns it unchanged."""
        if self.subject is not None and self.key is not None:
            body = model.model_validate(answer).model_dump(mode="json", by_alias=True)
            await service.complete(conn, self.subject, self.key, status_code, body)
        return answer


def _replay_event(principal: Principal, object_type: str, replay: service.Replay) -> dict[str, Any]:
    """The replayed answer's object and the resident it shows (ids only)."""
    body = replay.body if isinstance(replay.body, dict) else {}
    object_id = body.get("id")
    resident = object_id if object_type == "resident" else body.get("residentId")
    return {
        "actor": principal,
        "action": "idempotency.replay",
        "object_type": object_type,
        "object_id": object_id,
        "resident_id": uuid.UUID(resident) if resident else None,
        "details": {"status": replay.status_code},
    }


async def _idempotency(
    request: Request,
    conn: Connection,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=_KEY.pattern,
            description="Retry safely: the same key and body returns the first answer",
        ),
    ] = None,
) -> Idempotency:
    return Idempotency(request, conn, key)


IdempotencyKey = Annotated[Idempotency, Depends(_idempotency)]
