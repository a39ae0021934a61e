"""Liveness and readiness for load balancers and orchestrators."""

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db import MeteredPool
from api.errors import problem_type
from api.problems import problem_response
from api.schemas import ApiModel

router = APIRouter(tags=["health"])


class Pool(ApiModel):
    """This process's database connections."""

    size: int = Field(description="Connections kept open.")
    max_overflow: int = Field(description="Opened beyond size when busy (-1: no limit).")
    in_use: int = Field(description="Connections a request holds now.")
    waiting: int = Field(description="Requests waiting for a connection now.")


class Health(ApiModel):
    status: Literal["up", "down"]
    database: Literal["up", "down"] | None = None
    pool: Pool | None = None


def pool_state(engine: AsyncEngine) -> dict[str, int] | None:
    pool = engine.pool
    if not isinstance(pool, MeteredPool):
        return None
    return {
        "size": pool.size(),
        "maxOverflow": pool.max_overflow,
        "inUse": pool.checkedout(),
        "waiting": pool.waiting,
    }


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
    response_model_exclude_none=True,
    summary="Readiness: the database answers and no request queues for a connection",
    responses={
        503: {
            "description": "The database does not answer, or every connection is in use "
            "and requests wait for one"
        }
    },
)
async def ready(request: Request) -> Any:
    engine: AsyncEngine = request.app.state.engine
    pool = engine.pool
    # with requests already queueing, asking the database would only join the queue
    if isinstance(pool, MeteredPool) and pool.waiting and pool.exhausted:
        return problem_response(
            503,
            "Every database connection is in use and requests are waiting for one.",
            type_=problem_type("unavailable"),
            headers={"Retry-After": "1"},
            extra={"database": "up", "pool": pool_state(engine)},
        )
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
    return {"status": "up", "database": "up", "pool": pool_state(engine)}
