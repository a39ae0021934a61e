"""The Idempotency-Key dependency. Declare it as a route's first parameter so that it
wraps the transaction: a failed commit gives the key back too."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from api.deps import Principal
from api.idempotency import service

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class Idempotency:
    def __init__(self, request: Request, key: str | None) -> None:
        self.request = request
        self.key = key
        self.subject: str | None = None

    async def begin(self, principal: Principal, payload: Any) -> Response | None:
        """None to go on; a stored answer to send again when this is a retry."""
        if self.key is None:
            return None
        fingerprint = service.fingerprint(self.request.method, self.request.url.path, payload)
        replay = await service.claim(
            self.request.app.state.engine, principal.subject, self.key, fingerprint
        )
        if replay is not None:
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
