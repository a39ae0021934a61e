"""Liveness and readiness for load balancers and orchestrators."""

from typing import Any, Literal

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.errors import problem_response, problem_type
from api.schemas import ApiModel

router = APIRouter(tags=["health"])


class Health(ApiModel):
    status: Literal["up", "down"]
    database: Literal["up", "down"] | None = None


@router.get(
    "/health",
    response_model=Health,
    response_model_exclude_none=True,
    summary="Liveness: the process answers",
)
async def live() -> Any:
    return {"status": "up"}


@router.get(
    "/health/ready",
    response_model=Health,
    summary="Readiness: the database answers",
    responses={503: {"description": "The database does not answer"}},
)
async def ready(request: Request) -> Any:
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return problem_response(
            503,
            "The database does not answer.",
            type_=problem_type("unavailable"),
            headers={"Retry-After": "5"},
            extra={"database": "down"},
        )
    return {"status": "up", "database": "up"}
