"""The web layer's dependencies: the request's connection and transaction, who is calling
(the token becomes a Principal from the server's own records), and every role alias: the
only place role sets are named."""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword
from fastapi.openapi.models import OAuthFlows as OAuthFlowsModel
from fastapi.security import OAuth2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.caller import DISTRICT_ROLES, ROOM_ROLES, Principal, Role, principal_for_session
from api.db import reading, write, writing
from api.errors import AppError, Forbidden, Unauthenticated
from api.security import AccessClaims, InvalidToken, TokenCodec

_READS = frozenset({"GET", "HEAD"})


async def _transaction(request: Request) -> AsyncIterator[AsyncConnection]:
    engine: AsyncEngine = request.app.state.engine
    if request.method in _READS:
        # A read needs no BEGIN and COMMIT round trips: each statement commits itself
        # (the audit event a read leaves is written before the data is returned).
        async with reading(engine) as conn:
            try:
                yield conn
            except AppError as err:
                await write(conn, err.keep)
                raise
        return
    async with writing(engine) as conn:
        yield conn


# scope="function": the commit happens before the response is sent, so a client never
# sees a success for a write that did not reach the database.
Connection = Annotated[AsyncConnection, Depends(_transaction, scope="function")]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


_FLOWS = OAuthFlowsModel(
    password=OAuthFlowPassword(tokenUrl="auth/token"),
    clientCredentials=OAuthFlowClientCredentials(tokenUrl="auth/token"),
)


# Tokens whose signature and claims a codec has checked, by their exact text, with their
# expiry: checking the same token again (HMAC, base64, JSON, nine claims) is a sixth of a
# signed-in request's CPU. This keeps no session and no role: every request still looks the
# session up (revoked, expired, account inactive, roles and rooms as they are now), and a
# remembered token still expires at its `exp`. Per codec, so keys from other settings never
# vouch for a token; a new process (the only way keys change) starts empty.
_VERIFIED: weakref.WeakKeyDictionary[TokenCodec, dict[str, tuple[AccessClaims, int]]] = (
    weakref.WeakKeyDictionary()
)
_VERIFIED_MAX = 10_000


def verified_claims(codec: TokenCodec, token: str) -> AccessClaims:
    """codec.decode(token), remembering tokens that passed until they expire."""
    known = _VERIFIED.get(codec)
    if known is None:
        known = _VERIFIED[codec] = {}
    found = known.get(token)
    if found is not None:
        claims, expires = found
        if expires < int(time.time()):  # as jose checks `exp`, to the second
            del known[token]
            raise InvalidToken("ExpiredSignatureError")
        return claims
    claims = codec.decode(token)
    if len(known) >= _VERIFIED_MAX:
        known.clear()
    known[token] = (claims, int(claims.expires_at.timestamp()))
    return claims


async def _current_principal(request: Request, conn: AsyncConnection) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated()
    codec: TokenCodec = request.app.state.tokens
    try:
        claims = verified_claims(codec, token)
        principal = await principal_for_session(conn, claims.session_id, claims.subject)
    except InvalidToken:
        raise Unauthenticated(
            "The access token is invalid, expired or revoked.",
            headers={"WWW-Authenticate": 'Bearer realm="bwk", error="invalid_token"'},
        ) from None
    request.state.principal = principal
    return principal


class Allow(OAuth2):
    """A route's policy: the roles that may call it (every role with anyone=True). 401
    without a valid session, 403 for a caller of another role.

    It is also the token's security scheme in the OpenAPI document ("oauth2", the docs'
    "Authorize" button): one dependency where a scheme of its own, a caller and a policy
    were three, each solved on every request. The header is read and checked here."""

    def __init__(self, *roles: Role, anyone: bool = False) -> None:
        if not roles and not anyone:  # an empty set never opens a route to everyone
            raise ValueError("name the roles, or anyone=True")
        super().__init__(
            flows=_FLOWS,
            scheme_name="oauth2",
            description="Bearer access token from POST /auth/token",
            auto_error=False,
        )
        self.roles = frozenset(roles)

    # FastAPI solves the parameters of a scheme's __call__ like any dependency's
    async def __call__(  # type: ignore[override]
        self, request: Request, conn: Connection
    ) -> Principal:
        principal = await _current_principal(request, conn)
        if self.roles and principal.role not in self.roles:  # none: anyone=True
            raise Forbidden("Your role may not do this.")
        return principal


# Every role set a route allows, named once.
Admin = Annotated[Principal, Depends(Allow("admin"))]
Staff = Annotated[Principal, Depends(Allow(*ROOM_ROLES))]
Coordinator = Annotated[Principal, Depends(Allow("coordinator"))]
AdminOrCoordinator = Annotated[Principal, Depends(Allow("admin", "coordinator"))]
District = Annotated[Principal, Depends(Allow(*DISTRICT_ROLES))]
# who reads the figures: the district, and the rooms for their own
Overseers = Annotated[Principal, Depends(Allow("stadsdeel", "admin", "coordinator"))]
Readers = Annotated[Principal, Depends(Allow("stadsdeel", "admin", "coordinator", "volunteer"))]
# the two sides of a referral: a room's staff and a partner's system
Parties = Annotated[Principal, Depends(Allow("volunteer", "coordinator", "partner"))]
Anyone = Annotated[Principal, Depends(Allow(anyone=True))]


def client_address(request: Request) -> str:
    return (request.client.host if request.client else "unknown")[:64]


def referral_overdue_days(request: Request) -> int:
    """After how many days an open referral is overdue (BWK_REFERRAL_OVERDUE_DAYS)."""
    return int(request.app.state.settings.referral_overdue_days)
