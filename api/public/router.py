"""/public/assignments: the rooms' and partners' assignments in the open, for anyone, as JSON,
CSV or a plain HTML page; cacheable (Cache-Control, a strong ETag, 304 on If-None-Match) so a
city portal can poll it cheaply. /partners/{code}/assignment: admins enter a partner's."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response

from api.deps import Admin, Connection
from api.openapi import CSV_MEDIA
from api.params import CodePath, Rooms, Year
from api.public import page, service
from api.public.schemas import Assignments, AssignmentSet, PartnerAssignmentPublic
from api.responses import csv_response, wants, wants_csv
from api.sheets import render

router = APIRouter(tags=["directory"])
HTML_MEDIA = "text/html"
# five minutes: the figures move with registrations, a portal polls with If-None-Match
CACHE_CONTROL = "public, max-age=300"
# the page's own policy: its inline stylesheet and nothing else
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            CSV_MEDIA: {"schema": {"type": "string", "format": "binary"}},
            HTML_MEDIA: {"schema": {"type": "string"}},
        },
        "headers": {
            "ETag": {
                "description": "A strong validator: the hash of the body",
                "schema": {"type": "string"},
            },
            "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}},
        },
    },
    304: {"description": "Not modified: the body has the ETag given in If-None-Match"},
}


def _cacheable(request: Request, response: Response) -> Response:
    tag = '"' + hashlib.sha256(response.body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept"}
    asked = {t.strip() for t in request.headers.get("if-none-match", "").split(",")}
    if tag in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


@router.get(
    "/public/assignments",
    response_model=Assignments,
    summary="Every room's and partner's assignment, with the realised figures per quarter "
    "(no sign-in; small counts hidden as for the district)",
    responses=_ANSWERS,
)
async def public_assignments(
    request: Request,
    conn: Connection,
    year: Year,
    room: Rooms = [],  # noqa: B006 - FastAPI copies defaults
    format_: Annotated[Literal["json", "csv", "html"] | None, Query(alias="format")] = None,
) -> Response:
    data = Assignments.model_validate(await service.assignments(conn, year, room))
    if wants_csv(request, format_):
        answer = csv_response(render(page.CSV_HEADER, page.csv_rows(data)), f"opdrachten-{year}")
    elif wants(request, format_, "html", HTML_MEDIA):
        answer = Response(
            page.html(data),
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": HTML_POLICY},
        )
    else:
        answer = Response(
            orjson.dumps(data.model_dump(mode="json", by_alias=True)),
            media_type="application/json",
        )
    return _cacheable(request, answer)


@router.put(
    "/partners/{code}/assignment",
    response_model=PartnerAssignmentPublic,
    summary="Set a chain partner's assignment as published at /public/assignments (admins)",
)
async def set_assignment(
    conn: Connection, principal: Admin, code: CodePath, body: AssignmentSet
) -> Any:
    return await service.set_assignment(conn, principal, code, body.text, body.activities)
