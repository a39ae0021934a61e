"""Every error is application/problem+json (RFC 9457), built here and nowhere else: the
answers to the errors of `api/errors.py`, to invalid requests and to failures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import PROBLEM_JSON, AppError, problem_type

log = structlog.get_logger("api.errors")


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if extra:
        body.update(extra)
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def app_error_response(exc: AppError) -> Response:
    return problem_response(
        exc.status,
        exc.detail,
        title=exc.title,
        type_=problem_type(exc.slug),
        headers=exc.headers,
        extra=exc.extra,
    )


_CAMEL_CACHE: dict[str, str] = {}


def _camel(name: str) -> str:
    if name not in _CAMEL_CACHE:
        head, *rest = name.split("_")
        _CAMEL_CACHE[name] = head + "".join(p[:1].upper() + p[1:] for p in rest)
    return _CAMEL_CACHE[name]


def _field_name(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    # pydantic adds the type name of a union member or a function validator to the path
    parts = [p for p in parts if not p.startswith("function-") and p not in {"json-or-python"}]
    return ".".join(_camel(p) if not p.isdigit() else p for p in parts) or "body"


def _reason(error: Mapping[str, Any]) -> str:
    msg = str(error.get("msg", "invalid"))
    # never echo the offending value back: it may be personal data
    return msg.removeprefix("Value error, ")[:300]


def validation_problem(exc: RequestValidationError) -> Response:
    invalid = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            item = ("body", "the body is not valid JSON")
        else:
            item = (_field_name(err.get("loc", ())), _reason(err))
        if item not in seen:
            seen.add(item)
            invalid.append({"name": item[0], "reason": item[1]})
    return problem_response(
        400,
        f"The request has {len(invalid)} invalid parameter(s); see invalidParams.",
        title="Invalid input",
        type_=problem_type("invalid-input"),
        extra={"invalidParams": invalid},
    )


def _is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeoutError | ConnectionError | OSError):
        return True
    if isinstance(exc, OperationalError):  # connection refused or lost, timeouts, locks
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        # 57014 statement timeout, 55P03 lock timeout, 08xxx connection, 57P0x shutdown
        if sqlstate in {"57014", "55P03"} or sqlstate.startswith(("08", "57P")):
            return True
        if "database is locked" in str(exc.orig):
            return True
    return False


def log_failure(exc: BaseException) -> None:
    """Log an unexpected failure. A database error's text can hold row values (PostgreSQL's
    DETAIL line), so for those only the driver's error class and SQLSTATE are logged."""
    if isinstance(exc, DBAPIError):
        log.error(
            "database_error",
            error=type(exc.orig).__name__,
            sqlstate=getattr(exc.orig, "sqlstate", None),
        )
    else:
        log.error("unhandled_error", error=type(exc).__name__, exc_info=exc)


def install(app: FastAPI) -> None:
    async def on_app_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        return app_error_response(exc)

    async def on_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc)

    async def on_http(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404:
            detail = "There is nothing at this address."
        elif exc.status_code == 405:
            detail = "This method is not allowed at this address."
        return problem_response(exc.status_code, detail, headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if _is_database_unavailable(exc):
            log.warning("database_unavailable", error=type(exc).__name__)
            return problem_response(
                503,
                "The database is not reachable or busy; try again shortly.",
                type_=problem_type("unavailable"),
                headers={"Retry-After": "2"},
            )
        if isinstance(exc, DataError):  # text the database cannot store, such as NUL
            return problem_response(
                400,
                "The request holds characters or values that cannot be stored.",
                title="Invalid input",
                type_=problem_type("invalid-input"),
            )
        log_failure(exc)
        return problem_response(
            500,
            "Something went wrong on our side. The request id identifies it in our logs.",
            type_=problem_type("internal"),
        )

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DBAPIError, on_unexpected)
    app.add_exception_handler(PoolTimeoutError, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)
