"""One pure-ASGI middleware for what every response needs.

Request id, API-Version and security headers, the request-size limits (headers and
body), the access log line and the last-resort 500. Pure ASGI rather than BaseHTTPMiddleware:
it costs a few microseconds per request instead of a task and a stream per request.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import API_VERSION
from api.errors import problem_type
from api.problems import log_failure, problem_response

log = structlog.get_logger("api.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_COMMON_HEADERS: list[tuple[bytes, bytes]] = [
    (b"api-version", API_VERSION.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_CSP = b"content-security-policy"
# Every answer gets this strict policy unless its route sets its own (the docs pages do).
_API_CSP = (_CSP, b"default-src 'none'; frame-ancestors 'none'")
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class BodyTooLarge(Exception):
    pass


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_import_bytes: int,
        max_header_bytes: int,
        hsts: bool,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_import_bytes = max_import_bytes
        self.max_header_bytes = max_header_bytes
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        extra = [(b"x-request-id", request_id.encode()), _NO_STORE]
        if self.hsts:
            extra.append(_HSTS)
        status_holder = [0]
        response_started = False

        if sum(len(k) + len(v) + 4 for k, v in scope["headers"]) > self.max_header_bytes:
            await self._send_problem(send, extra, 431, "The request headers are too large.")
            self._log(scope, request_id, 431, started)
            return

        # an import carries a whole room's list; every other body is small
        limit = self.max_import_bytes if path.endswith("/import") else self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._send_problem(send, extra, 413, "The request body is too large.")
            self._log(scope, request_id, 413, started)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_holder[0] = message["status"]
                own = message.get("headers", [])
                headers = [*own, *_COMMON_HEADERS, *extra]
                # a route that says how it may be cached (the public assignments) is believed
                if any(k.lower() == _NO_STORE[0] for k, _ in own):
                    headers.remove(_NO_STORE)
                if not any(k.lower() == _CSP for k, _ in headers):
                    headers.append(_API_CSP)
                message["headers"] = headers
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not response_started:
                await self._send_problem(send, extra, 413, "The request body is too large.")
            status_holder[0] = 413
        except Exception as exc:
            log_failure(exc)
            if not response_started:
                await self._send_problem(
                    send,
                    extra,
                    500,
                    "Something went wrong on our side. The request id identifies it in our logs.",
                    slug="internal",
                )
            status_holder[0] = 500
        finally:
            self._log(scope, request_id, status_holder[0], started)
            structlog.contextvars.unbind_contextvars("request_id")

    @staticmethod
    def _log(scope: Scope, request_id: str, status: int, started: float) -> None:
        # The path only: query strings may carry search terms about people.
        log.info(
            "request",
            method=scope["method"],
            path=scope["path"],
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )

    @staticmethod
    async def _send_problem(
        send: Send, extra: list[tuple[bytes, bytes]], status: int, detail: str, slug: str = ""
    ) -> None:
        response = problem_response(status, detail, type_=problem_type(slug) if slug else None)
        headers = [*response.raw_headers, *_COMMON_HEADERS, *extra, _API_CSP]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _incoming_request_id(scope: Scope) -> str | None:
    raw = _header(scope, b"x-request-id")
    if raw is None:
        return None
    value = raw.decode("latin-1")
    return value if _REQUEST_ID.match(value) else None


def _content_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def request_id_of(state: Any) -> str | None:
    return getattr(state, "request_id", None)
