"""/indicators/performance and /targets: the figures the district pulls, and its agreements."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import ValidationError

from api.calendar import period
from api.caller import Principal
from api.deps import Allow, Connection
from api.errors import InvalidInput
from api.indicators import export, service, targets
from api.indicators.schemas import Breakdown, Performance, TargetPage, TargetSet
from api.openapi import CSV_MEDIA, csv_answer, csv_body
from api.params import CsvFormat, Cursor, Limit, Rooms, Year
from api.responses import csv_response, wants_csv

router = APIRouter(tags=["indicators"])

Readers = Annotated[Principal, Depends(Allow("stadsdeel", "admin", "coordinator", "volunteer"))]
District = Annotated[Principal, Depends(Allow("stadsdeel", "admin"))]


@router.get(
    "/indicators/performance",
    response_model=Performance,
    summary="Targets against realised figures for a year, quarter or month",
    responses=csv_answer(),
)
async def performance(
    request: Request,
    conn: Connection,
    principal: Readers,
    year: Year,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    room: Rooms = [],  # noqa: B006 - FastAPI copies defaults
    format_: CsvFormat = None,
) -> Any:
    data = await service.performance(conn, principal, period(year, quarter, month), room)
    if wants_csv(request, format_):
        name = export.period_name("prestaties", year, quarter, month)
        return csv_response(
            export.render(export.PERFORMANCE_HEADER, export.performance_rows(data)), name
        )
    return data


@router.get(
    "/indicators/participants",
    response_model=Breakdown,
    summary="Participants by age band or postcode area, small cells hidden for the district",
)
async def participants(
    conn: Connection,
    principal: Readers,
    year: Year,
    by: Annotated[Literal["age-band", "postcode-area"], Query()],
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    room: Rooms = [],  # noqa: B006 - FastAPI copies defaults
) -> Any:
    return await service.participants_by(conn, principal, period(year, quarter, month), room, by)


@router.get(
    "/targets",
    response_model=TargetPage,
    summary="Performance agreements; as CSV the whole selection, ready for PUT /targets/{year}",
    responses=csv_answer(),
)
async def list_targets(
    request: Request,
    conn: Connection,
    principal: Readers,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    room: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    format_: CsvFormat = None,
) -> Any:
    if wants_csv(request, format_):
        name = f"doelen-{year}" if year else "doelen"
        rows = await targets.list_agreements(
            conn, principal, targets.TARGETS, year=year, room=room, limit=100_000, after=None
        )
        return Response(
            export.render(export.TARGETS_HEADER, export.target_rows(rows)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return await targets.agreements_page(
        conn, principal, targets.TARGETS, year=year, room=room, limit=limit, cursor=cursor
    )


@router.put(
    "/targets/{year}",
    response_model=TargetPage,
    summary="Set a year's agreements (JSON or CSV); the year becomes exactly these",
    openapi_extra=csv_body(TargetSet),
)
async def replace_targets(
    request: Request,
    conn: Connection,
    principal: District,
    year: Annotated[int, Path(ge=2000, le=2100)],
) -> Any:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith(CSV_MEDIA):
        items = _csv_items(raw, year)
    else:
        try:
            items = [i.model_dump() for i in TargetSet.model_validate_json(raw).items]
        except ValidationError as exc:
            raise InvalidInput(
                [(".".join(map(str, e["loc"])) or "body", e["msg"]) for e in exc.errors()]
            ) from None
    await targets.replace_year(conn, principal, year, items)
    return await targets.agreements_page(conn, principal, targets.TARGETS, year=year)


# PUT reads the columns GET ?format=csv writes (Dutch) as well as the English ones
_CSV_COLUMNS = {"kamer": "room", "eenheid": "unit", "doel": "value"}


def _csv_items(raw: bytes, year: int) -> list[dict[str, Any]]:
    reader = export.read_sheet(raw)
    items, errors = [], []
    for line, raw_row in enumerate(reader, start=2):
        row = {_CSV_COLUMNS.get(k.strip(), k.strip()): v for k, v in raw_row.items() if k}
        if (row.get("jaar") or "").strip() not in ("", str(year)):
            errors.append((f"line {line}", f"jaar {row['jaar'].strip()} is not {year}"))
            continue
        try:
            items.append(
                TargetSet.model_validate(
                    {
                        "items": [
                            {
                                k: (row.get(k) or "").strip()
                                for k in ("room", "indicator", "unit", "value")
                            }
                        ]
                    }
                )
                .items[0]
                .model_dump()
            )
        except ValidationError as exc:
            errors += [(f"line {line}", e["msg"]) for e in exc.errors()]
    if errors:
        raise InvalidInput(errors[:200])
    return items
