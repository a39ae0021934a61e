"""POST /auth/token, POST /auth/revoke, GET /me, PUT /me/password."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request, Response

from api.auth import service
from api.auth.schemas import Me, PasswordChange, Revoked, RevokeRequest, TokenRequest, TokenResponse
from api.deps import Anyone, Connection, bearer_token, client_address
from api.errors import problem_type
from api.problems import problem_response
from api.responses import fast_json

router = APIRouter(tags=["auth"])


def _grant_error(err: service.GrantError) -> Response:
    headers = {}
    if err.retry_after is not None:
        headers["Retry-After"] = str(err.retry_after)
    if err.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="bwk"'
    return problem_response(
        err.status,
        err.description,
        title="Too many requests" if err.status == 429 else "Sign-in refused",
        type_=problem_type("oauth-" + err.error.replace("_", "-")),
        headers=headers,
        extra={"error": err.error, "error_description": err.description},
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    summary="Get an access token (OAuth2 password, client_credentials, refresh_token)",
    response_model_exclude_none=True,
    responses={401: {"description": "Unknown client"}, 429: {"description": "Too many failures"}},
)
async def token(request: Request, conn: Connection, form: Annotated[TokenRequest, Form()]) -> Any:
    auth: service.Auth = request.app.state.auth
    address = client_address(request)
    result: service.Tokens | service.GrantError
    if form.grant_type == "password":
        if not form.username or not form.password:
            result = service.GrantError("invalid_request", "username and password are required.")
        else:
            result = await service.password_grant(conn, auth, form.username, form.password, address)
    elif form.grant_type == "client_credentials":
        basic = _basic_credentials(request)
        client_id, secret = basic or (form.client_id, form.client_secret)
        if not client_id or not secret:
            result = service.GrantError(
                "invalid_client", "client_id and client_secret are required.", 401
            )
        else:
            result = await service.client_credentials_grant(conn, auth, client_id, secret, address)
    elif form.grant_type == "refresh_token":
        if not form.refresh_token:
            result = service.GrantError("invalid_request", "refresh_token is required.")
        else:
            result = await service.refresh_grant(conn, auth, form.refresh_token, address)
    elif not form.grant_type:
        result = service.GrantError("invalid_request", "grant_type is required.")
    else:
        result = service.GrantError(
            "unsupported_grant_type",
            "grant_type must be password, client_credentials or refresh_token.",
        )
    if isinstance(result, service.GrantError):
        return _grant_error(result)
    return TokenResponse(
        access_token=result.access_token,
        expires_in=result.expires_in,
        refresh_token=result.refresh_token,
    ).model_dump(exclude_none=True)


@router.post(
    "/auth/revoke",
    response_model=Revoked,
    summary="End a token and its refresh chain (the bearer token, or `token` in the form)",
)
async def revoke(request: Request, conn: Connection, form: Annotated[RevokeRequest, Form()]) -> Any:
    auth: service.Auth = request.app.state.auth
    revoked = await service.revoke(
        conn,
        auth,
        access_token=bearer_token(request),
        token=form.token,
        address=client_address(request),
    )
    # RFC 7009: an unknown token is not an error
    return {"revoked": revoked}


@router.get("/me", response_model=Me, summary="Who this token is: role, rooms or partner")
async def me(principal: Anyone) -> Any:
    return fast_json(service.me(principal))


@router.put(
    "/me/password",
    status_code=204,
    summary="Change your own password (people only)",
    responses={403: {"description": "Partner systems have secrets, not passwords"}},
)
async def change_password(
    request: Request, conn: Connection, principal: Anyone, body: PasswordChange
) -> Response:
    auth: service.Auth = request.app.state.auth
    await service.change_password(
        conn,
        auth,
        principal,
        body.current_password,
        body.new_password,
        client_address(request),
    )
    return Response(status_code=204)
