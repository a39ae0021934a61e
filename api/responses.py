"""Answers routes share: JSON sent as the service shaped it, CSV when the client asks."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic.alias_generators import to_camel

from api.openapi import CSV_MEDIA

_CAMEL: dict[str, str] = {}


def _camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = _CAMEL.get(key)
            if name is None:
                name = _CAMEL[key] = to_camel(key)
            out[name] = _camel_keys(item)
        return out
    if isinstance(value, list):
        return [_camel_keys(item) for item in value]
    return value


def fast_json(
    data: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """For hot paths: rows the service already shaped like the route's response model, sent
    as JSON without validating them a second time (tests check the shape against the model)."""
    return Response(
        orjson.dumps(_camel_keys(data), option=orjson.OPT_UTC_Z),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def wants(request: Request, format_: str | None, name: str, media: str) -> bool:
    """Whether the client asks for `name` (csv, html): with format=name, or with an Accept
    header naming `media` and no format."""
    if format_ is not None:
        return format_ == name
    return media in request.headers.get("accept", "")


def wants_csv(request: Request, format_: str | None) -> bool:
    """CSV when asked for with format=csv, or with Accept: text/csv and no format."""
    return wants(request, format_, "csv", CSV_MEDIA)


def sends_csv(request: Request) -> bool:
    """Whether the body is CSV (Content-Type: text/csv) rather than JSON."""
    return request.headers.get("content-type", "").startswith(CSV_MEDIA)


def csv_response(content: bytes, name: str) -> Response:
    """A CSV answer that Excel saves as `name`.csv."""
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
