"""Structured logs: JSON in production, readable in demo, a request id on every line.

Log events carry ids and counts, never names, notes, tokens or passwords; the redaction
processor is the safety net for a key that slips through.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog

_SENSITIVE = (
    "password",
    "secret",
    "token",
    "authorization",
    "cookie",
    "name",
    "note",
    "email",
    "phone",
    "contact",
    "address",
)
_ALLOWED = {"event", "logger", "logger_name"}


def _redact(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        lowered = key.lower()
        if lowered not in _ALLOWED and any(s in lowered for s in _SENSITIVE):
            event[key] = "[redacted]"
    return event


def _pid(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    # `bwk serve` runs a worker per CPU, all writing to one stream: which one said it
    event["pid"] = os.getpid()
    return event


def configure(*, json: bool, level: str = "INFO") -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _pid,
        _redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        # plain tracebacks: rich's would print local variables, which can hold personal data
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    processors: list[Any] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info if json else _identity,
        renderer,
    ]
    formatter = structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=processors)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # the access line is ours (api.access), with a request id and without the query string
    logging.getLogger("uvicorn.access").disabled = True


def _identity(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    return event
