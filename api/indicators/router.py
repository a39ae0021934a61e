"""Every figure the district pulls (/indicators/*: performance, participants, efficiency,
outcomes, referrals) and its agreements (/targets, /outcome-targets)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import ValidationError

from api.base import utcnow
from api.budgets.schemas import Efficiency
from api.calendar import period
from api.deps import Connection, District, Overseers, Readers, referral_overdue_days
from api.errors import InvalidInput
from api.indicators import efficiency, export, service, targets
from api.indicators.schemas import Breakdown, Performance, TargetItem, TargetPage, TargetSet
from api.openapi import csv_answer, csv_body
from api.outcomes import figures as outcomes
from api.outcomes.schemas import Outcomes, OutcomeTargetPage, OutcomeTargetSet
from api.params import CsvFormat, Cursor, Limit, Month, Quarter, Rooms, SlugQuery, Year
from api.referrals import figures as referrals
from api.referrals.schemas import ReferralFigures
from api.responses import csv_response, sends_csv, wants_csv
from api.sheets import period_name, read_sheet, render

# no tags on the router: the outcome and referral figures are tagged with their domain too
router = APIRouter()


@router.get(
    "/indicators/performance",
    tags=["indicators"],
    response_model=Performance,
    summary="Targets against realised figures for a year, quarter or month",
    responses=csv_answer(),
)
async def performance(
    request: Request,
    conn: Connection,
    principal: Readers,
    year: Year,
    quarter: Quarter = None,
    month: Month = None,
    room: Rooms = [],  # noqa: B006 - FastAPI copies defaults
    format_: CsvFormat = None,
) -> Any:
    data = await service.performance(conn, principal, period(year, quarter, month), room)
    if wants_csv(request, format_):
        name = period_name("prestaties", year, quarter, month)
        return csv_response(render(export.PERFORMANCE_HEADER, export.performance_rows(data)), name)
    return data


@router.get(
    "/indicators/participants",
    tags=["indicators"],
    response_model=Breakdown,
    summary="Participants by age band or postcode area, small cells hidden for the district",
)
async def participants(
    conn: Connection,
    principal: Readers,
    year: Year,
    by: Annotated[Literal["age-band", "postcode-area"], Query()],
    quarter: Quarter = None,
    month: Month = None,
    room: Rooms = [],  # noqa: B006 - FastAPI copies defaults
) -> Any:
    return await service.participants_by(conn, principal, period(year, quarter, month), room, by)


@router.get(
    "/targets",
    tags=["indicators"],
    response_model=TargetPage,
    summary="Performance agreements; as CSV the whole selection, ready for PUT /targets/{year}",
    responses=csv_answer(),
)
async def list_targets(
    request: Request,
    conn: Connection,
    principal: Readers,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    room: SlugQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    format_: CsvFormat = None,
) -> Any:
    if wants_csv(request, format_):
        name = f"doelen-{year}" if year else "doelen"
        rows = await targets.list_agreements(
            conn, principal, targets.TARGETS, year=year, room=room, limit=100_000, after=None
        )
        return csv_response(render(export.TARGETS_HEADER, export.target_rows(rows)), name)
    return await targets.agreements_page(
        conn, principal, targets.TARGETS, year=year, room=room, limit=limit, cursor=cursor
    )


@router.put(
    "/targets/{year}",
    tags=["indicators"],
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
    if sends_csv(request):
        items = _csv_items(raw, year)
    else:
        try:
            items = TargetSet.model_validate_json(raw).items
        except ValidationError as exc:
            raise InvalidInput(
                [(".".join(map(str, e["loc"])) or "body", e["msg"]) for e in exc.errors()]
            ) from None
    await targets.replace_year(conn, principal, year, items)
    return await targets.agreements_page(conn, principal, targets.TARGETS, year=year)


# PUT reads the columns GET ?format=csv writes (Dutch) as well as the English ones
_CSV_COLUMNS = {"kamer": "room", "eenheid": "unit", "doel": "value"}


def _csv_items(raw: bytes, year: int) -> list[TargetItem]:
    reader = read_sheet(raw)
    items: list[TargetItem] = []
    errors: list[tuple[str, str]] = []
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
                ).items[0]
            )
        except ValidationError as exc:
            errors += [(f"line {line}", e["msg"]) for e in exc.errors()]
    if errors:
        raise InvalidInput(errors[:200])
    return items


@router.get(
    "/indicators/efficiency",
    response_model=Efficiency,
    tags=["indicators"],
    summary="What the work costs against what it reaches, for a year or a quarter",
    responses=csv_answer(),
)
async def efficiency_figures(
    request: Request,
    conn: Connection,
    principal: Overseers,
    year: Year,
    quarter: Quarter = None,
    room: Rooms = [],  # noqa: B006 - FastAPI copies defaults
    format_: CsvFormat = None,
) -> Any:
    data = await efficiency.efficiency(conn, principal, period(year, quarter), room)
    if wants_csv(request, format_):
        name = f"doelmatigheid-{year}" + (f"-q{quarter}" if quarter else "")
        return csv_response(render(efficiency.HEADER, efficiency.rows(data)), name)
    return data


@router.get(
    "/indicators/outcomes",
    response_model=Outcomes,
    tags=["outcomes", "indicators"],
    summary="Movement between first and latest measurement in a year, quarter or month; "
    "new volunteers; targets pro rata",
    responses=csv_answer(),
)
async def outcome_figures(
    request: Request,
    conn: Connection,
    principal: Readers,
    year: Year,
    quarter: Quarter = None,
    month: Month = None,
    room: Rooms = [],  # noqa: B006 - FastAPI copies defaults
    format_: CsvFormat = None,
) -> Any:
    data = await outcomes.outcome_figures(conn, principal, period(year, quarter, month), room)
    if wants_csv(request, format_):
        name = period_name("uitkomsten", year, quarter, month)
        return csv_response(render(outcomes.OUTCOMES_HEADER, outcomes.outcome_rows(data)), name)
    return data


@router.get(
    "/outcome-targets",
    response_model=OutcomeTargetPage,
    tags=["outcomes", "indicators"],
    summary="Outcome agreements: residents moving up a ladder or the matrix, new volunteers",
)
async def list_outcome_targets(
    conn: Connection,
    principal: Readers,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    room: SlugQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    return await targets.agreements_page(
        conn,
        principal,
        targets.OUTCOME_TARGETS,
        year=year,
        room=room,
        limit=limit,
        cursor=cursor,
    )


@router.put(
    "/outcome-targets/{year}",
    response_model=OutcomeTargetPage,
    tags=["outcomes", "indicators"],
    summary="Set a year's outcome agreements; the year becomes exactly these",
)
async def replace_outcome_targets(
    conn: Connection,
    principal: District,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: OutcomeTargetSet,
) -> Any:
    await targets.replace_outcome_targets(conn, principal, year, body.items)
    return await targets.agreements_page(conn, principal, targets.OUTCOME_TARGETS, year=year)


@router.get(
    "/indicators/referrals",
    response_model=ReferralFigures,
    tags=["referrals", "indicators"],
    summary="Referrals per partner and direction: status, closure, speed, overdue, reasons",
)
async def referral_figures(
    request: Request,
    conn: Connection,
    principal: Overseers,
    year: Annotated[int, Query(ge=2000, le=2100)],
    quarter: Quarter = None,
    month: Month = None,
    room: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
) -> Any:
    return await referrals.referral_figures(
        conn,
        principal,
        period(year, quarter, month),
        room,
        referral_overdue_days(request),
        utcnow(),
    )
