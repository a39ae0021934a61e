"""/budgets/{year} (the district's money, JSON or CSV) and /indicators/efficiency."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import ValidationError

from api.budgets import service, sheet
from api.budgets.schemas import Budget, BudgetChange, BudgetSet
from api.deps import Connection, District
from api.errors import InvalidInput
from api.openapi import csv_answer, csv_body
from api.params import CsvFormat
from api.responses import csv_response, sends_csv, wants_csv

router = APIRouter(tags=["indicators"])

YearPath = Annotated[int, Path(ge=2000, le=2100, examples=[2019])]


@router.get(
    "/budgets/{year}",
    response_model=Budget,
    summary="A year's money: income, costs, subsidy grants, staff (JSON or CSV)",
    responses=csv_answer(),
)
async def get_budget(
    request: Request,
    conn: Connection,
    principal: District,
    year: YearPath,
    format_: CsvFormat = None,
) -> Any:
    data = await service.budget(conn, year)
    if wants_csv(request, format_):
        return csv_response(sheet.write(data), f"begroting-{year}")
    return data


@router.put(
    "/budgets/{year}",
    response_model=BudgetChange,
    summary="Set a year's money (JSON or CSV); the year becomes exactly this, audited",
    description="The answer's `moved` says which of the year's figures this change moved.",
    openapi_extra=csv_body(BudgetSet),
)
async def replace_budget(
    request: Request,
    conn: Connection,
    principal: District,
    year: YearPath,
) -> Any:
    raw = await request.body()
    if sends_csv(request):
        data, lines = sheet.read(raw, year)
        moved = await service.replace_year(
            conn, principal, year, data, lambda section, i, _: f"line {lines[(section, i)]}"
        )
    else:
        try:
            data = BudgetSet.model_validate_json(raw)
        except ValidationError as exc:
            raise InvalidInput(
                [(".".join(map(str, e["loc"])) or "body", e["msg"]) for e in exc.errors()][:200]
            ) from None
        moved = await service.replace_year(conn, principal, year, data)
    return {**await service.budget(conn, year, required=False), "moved": moved}
