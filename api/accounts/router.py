"""/users (admins; coordinators for their rooms' volunteers) and /partner-clients (admins)."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.accounts import service
from api.accounts.schemas import (
    ClientCreate,
    ClientPage,
    ClientPublic,
    ClientUpdate,
    ClientWithSecret,
    UserCreate,
    UserCreated,
    UserPage,
    UserPublic,
    UserRole,
    UserUpdate,
)
from api.deps import Admin, AdminOrCoordinator, Connection
from api.params import Cursor, Limit, SlugQuery
from api.schemas import decode_cursor, page

router = APIRouter(tags=["accounts"])


def _passwords(request: Request) -> Any:
    return request.app.state.auth.passwords


@router.get("/users", response_model=UserPage, summary="Accounts you may manage")
async def list_users(
    conn: Connection,
    principal: AdminOrCoordinator,
    limit: Limit = 50,
    cursor: Cursor = None,
    role: Annotated[UserRole | None, Query()] = None,
    room: SlugQuery = None,
) -> Any:
    after = decode_cursor(cursor, str)
    rows = await service.list_users(
        conn, principal, limit=limit, after=after[0] if after else None, role=role, room=room
    )
    return page(rows, limit, key=lambda r: [r["username"]])


@router.post("/users", response_model=UserCreated, status_code=201, summary="Add an account")
async def create_user(
    request: Request, conn: Connection, principal: AdminOrCoordinator, body: UserCreate
) -> Any:
    return await service.create_user(
        conn, principal, _passwords(request), body.model_dump(exclude_unset=False)
    )


@router.get("/users/{user_id}", response_model=UserPublic, summary="One account")
async def get_user(conn: Connection, principal: AdminOrCoordinator, user_id: UUID) -> Any:
    return await service.get_user(conn, principal, user_id)


@router.patch("/users/{user_id}", response_model=UserPublic, summary="Change an account")
async def update_user(
    request: Request,
    conn: Connection,
    principal: AdminOrCoordinator,
    user_id: UUID,
    body: UserUpdate,
) -> Any:
    return await service.update_user(
        conn, principal, _passwords(request), user_id, body.model_dump(exclude_unset=True)
    )


@router.get("/partner-clients", response_model=ClientPage, summary="Partner systems' API clients")
async def list_clients(
    conn: Connection,
    _principal: Admin,
    limit: Limit = 50,
    cursor: Cursor = None,
    partner: SlugQuery = None,
) -> Any:
    after = decode_cursor(cursor, str)
    rows = await service.list_clients(
        conn, limit=limit, after=after[0] if after else None, partner=partner
    )
    return page(rows, limit, key=lambda r: [r["client_id"]])


@router.post(
    "/partner-clients",
    response_model=ClientWithSecret,
    status_code=201,
    summary="Add a partner system; its secret is shown once",
)
async def create_client(
    request: Request, conn: Connection, principal: Admin, body: ClientCreate
) -> Any:
    return await service.create_client(conn, principal, _passwords(request), body.model_dump())


@router.get("/partner-clients/{client_id}", response_model=ClientPublic, summary="One client")
async def get_client(conn: Connection, _principal: Admin, client_id: UUID) -> Any:
    return await service.get_client(conn, client_id)


@router.patch(
    "/partner-clients/{client_id}", response_model=ClientPublic, summary="Change a client"
)
async def update_client(
    conn: Connection, principal: Admin, client_id: UUID, body: ClientUpdate
) -> Any:
    return await service.update_client(
        conn, principal, client_id, body.model_dump(exclude_unset=True)
    )


@router.post(
    "/partner-clients/{client_id}/secret",
    response_model=ClientWithSecret,
    summary="Give a client a new secret (shown once); the old one stops working",
)
async def rotate_secret(
    request: Request, conn: Connection, principal: Admin, client_id: UUID
) -> Any:
    return await service.rotate_client_secret(conn, principal, _passwords(request), client_id)
