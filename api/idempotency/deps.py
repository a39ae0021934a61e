"""The Idempotency-Key dependency. Declare it as a route's first parameter so that it
wraps the transaction: a failed commit gives the key back too."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import record
from api.deps import Principal
from api.idempotency import service

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class Idempotency:
    def __init__(self, request: Request, key: str | None) -> None:
        self.request = request
        self.key = key
        self.subject: str | None = None

    async def begin(
        self, principal: Principal, payload: Any, *, object_type: str
    ) -> Response | None:
        """None to go on; a stored answer to send again when this is a retry. `object_type`
        names what the answer shows: a replay of it is a look at that object, on the record."""
        if self.key is None:
            return None
        engine = self.request.app.state.engine
        fingerprint = service.fingerprint(self.request.method, self.request.url.path, payload)
        replay = await service.claim(engine, principal.subject, self.key, fingerprint)
        if replay is not None:
            async with engine.begin() as conn:
                await record(conn, **_replay_event(principal, object_type, replay))
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

    async def release(self) -> None:
        if self.subject is not None and self.key is not None:
            await service.release(self.request.app.state.engine, self.subject, self.key)
            self.subject = None


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
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=_KEY.pattern,
            description="Retry safely: the same key and body returns the first answer",
        ),
    ] = None,
) -> AsyncIterator[Idempotency]:
    idempotency = Idempotency(request, key)
    try:
        yield idempotency
    except BaseException:
        await idempotency.release()
        raise


IdempotencyKey = Annotated[Idempotency, Depends(_idempotency, scope="function")]
