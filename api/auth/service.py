"""Sign-in, token rotation and revocation. Failures are results, not exceptions, so
that the failed sign-in and its audit event are committed with the answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from sqlalchemy import ColumnElement, Table, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.accounts.models import AuthSession, PartnerClient, UserAccount
from api.audit.service import audit_event, event_row, record
from api.auth.models import LoginFailure, RefreshToken
from api.base import table, utcnow
from api.caller import Principal, principal_for_session
from api.db import Writes, write
from api.errors import Forbidden, InvalidInput, TooManyRequests, kept
from api.instruments import SIGN_IN_FAILURES
from api.security import InvalidToken, Passwords, TokenCodec, hash_opaque, new_refresh_token
from api.settings import Settings

_user: Table = table(UserAccount)
_client: Table = table(PartnerClient)
_session: Table = table(AuthSession)
_refresh: Table = table(RefreshToken)
_failure: Table = table(LoginFailure)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str | None


@dataclass(frozen=True)
class GrantError:
    error: str  # RFC 6749 section 5.2
    description: str
    status: int = 400
    retry_after: int | None = None


@dataclass
class Auth:
    """What the grants need from the app: settings, the token codec, the hasher."""

    settings: Settings
    codec: TokenCodec
    passwords: Passwords


async def serialise_attempts(conn: AsyncConnection, name: str) -> None:
    """Sign-ins for one name take turns (PostgreSQL), so concurrent guesses cannot all be
    checked before the first failure is counted. The lock ends with the transaction."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


async def failures_in_window(
    conn: AsyncConnection,
    failures: ColumnElement[bool],
    limit: int,
    window_seconds: int,
    now: datetime,
) -> tuple[int, int | None]:
    """How many failures are in the window, and the seconds until the oldest leaves it when
    there are `limit` or more (else None)."""
    count, oldest = (
        await conn.execute(
            select(func.count(), func.min(_failure.c.at)).where(
                failures, _failure.c.at > now - timedelta(seconds=window_seconds)
            )
        )
    ).one()
    if count < limit:
        return count, None
    if oldest.tzinfo is None:  # SQLite aggregates lose the column type
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=now.tzinfo)
    return count, max(1, int(window_seconds - (now - oldest).total_seconds()) + 1)


async def throttled(
    conn: AsyncConnection, auth: Auth, name: str, address: str, now: datetime
) -> int | None:
    """Seconds to wait when this name or address failed too often in the window, else None.
    Names are namespaced: 'user:anna', 'client:madi' (and 'code:<account id>', see
    residents/lookup.py)."""
    window = auth.settings.login_window_seconds
    limits = (
        (_failure.c.username == name, auth.settings.login_max_failures),
        (_failure.c.address == address, auth.settings.login_max_failures_per_address),
    )
    for condition, limit in limits:
        _count, wait = await failures_in_window(conn, condition, limit, window, now)
        if wait is not None:
            return wait
    return None


def _failure_writes(name: str, address: str, actor_id: uuid.UUID | None, kind: str) -> Writes:
    """A failed sign-in or password check: the row the throttle counts and its audit event."""
    SIGN_IN_FAILURES.labels(kind).inc()
    event = event_row(
        actor=None,
        actor_id=actor_id,
        action="auth.sign_in_failed",
        object_type=kind,
        object_id=actor_id,
        address=address,
    )
    return [
        (_failure, [{"username": name, "address": address, "at": utcnow()}]),
        (audit_event, [event]),
    ]


async def fail(
    conn: AsyncConnection, name: str, address: str, actor_id: uuid.UUID | None, kind: str
) -> None:
    await write(conn, _failure_writes(name, address, actor_id, kind))


async def _start_session(
    conn: AsyncConnection,
    auth: Auth,
    *,
    user_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
) -> Tokens:
    now = utcnow()
    session_id = uuid.uuid4()
    if user_id is not None:
        lifetime = timedelta(days=auth.settings.refresh_token_days)
        subject = f"user:{user_id}"
    else:
        lifetime = auth.codec.lifetime
        subject = f"client:{client_id}"
    await conn.execute(
        _session.insert().values(
            id=session_id,
            user_id=user_id,
            client_id=client_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    refresh = None
    if user_id is not None:  # RFC 6749 4.4.3: no refresh token for client credentials
        refresh = await _issue_refresh(conn, session_id, now + lifetime)
    return Tokens(auth.codec.issue(subject, session_id, now), _seconds(auth), refresh)


def _seconds(auth: Auth) -> int:
    return int(auth.codec.lifetime.total_seconds())


async def _issue_refresh(conn: AsyncConnection, session_id: uuid.UUID, expires: datetime) -> str:
    token, token_hash = new_refresh_token()
    await conn.execute(
        _refresh.insert().values(
            token_hash=token_hash, session_id=session_id, issued_at=utcnow(), expires_at=expires
        )
    )
    return token


@dataclass(frozen=True)
class _Kind:
    """What differs between a person's and a partner system's sign-in."""

    name: str  # "user" or "client"
    table: Table
    key: str  # the column signed in with
    secret: str  # the column with the hash
    refused: GrantError


_PEOPLE = _Kind(
    "user",
    _user,
    "username",
    "password_hash",
    GrantError("invalid_grant", "The username or password is not right."),
)
_SYSTEMS = _Kind(
    "client",
    _client,
    "client_id",
    "secret_hash",
    GrantError("invalid_client", "The client id or secret is not right.", 401),
)


async def _sign_in(
    conn: AsyncConnection, auth: Auth, kind: _Kind, given: str, secret: str, address: str
) -> Tokens | GrantError:
    given = given.strip().lower()[:60]
    name = f"{kind.name}:{given}"
    await serialise_attempts(conn, name)
    wait = await throttled(conn, auth, name, address, utcnow())
    if wait is not None:
        return GrantError("invalid_request", "Too many failed sign-ins; wait.", 429, wait)
    table = kind.table
    row = (
        await conn.execute(
            select(table.c.id, table.c[kind.secret].label("stored"), table.c.active).where(
                table.c[kind.key] == given
            )
        )
    ).first()
    # an unknown name is checked against a dummy hash: it costs the same time
    ok, new_hash = await anyio.to_thread.run_sync(
        auth.passwords.verify, secret, row.stored if row else None
    )
    if row is None or not ok or not row.active:
        await fail(conn, name, address, row.id if row else None, kind.name)
        return kind.refused
    if new_hash:
        await conn.execute(
            table.update().where(table.c.id == row.id).values({kind.secret: new_hash})
        )
    await conn.execute(delete(_failure).where(_failure.c.username == name))
    if kind is _PEOPLE:
        tokens = await _start_session(conn, auth, user_id=row.id)
    else:
        tokens = await _start_session(conn, auth, client_id=row.id)
    await record(
        conn,
        actor=None,
        actor_id=row.id,
        action="auth.sign_in",
        object_type=kind.name,
        object_id=row.id,
        address=address,
    )
    return tokens


async def password_grant(
    conn: AsyncConnection, auth: Auth, username: str, password: str, address: str
) -> Tokens | GrantError:
    return await _sign_in(conn, auth, _PEOPLE, username, password, address)


async def client_credentials_grant(
    conn: AsyncConnection, auth: Auth, client_id: str, secret: str, address: str
) -> Tokens | GrantError:
    return await _sign_in(conn, auth, _SYSTEMS, client_id, secret, address)


async def refresh_grant(
    conn: AsyncConnection, auth: Auth, refresh_token: str, address: str
) -> Tokens | GrantError:
    token_hash = hash_opaque(refresh_token)
    now = utcnow()
    invalid = GrantError("invalid_grant", "The refresh token is invalid, expired or used.")
    # one atomic step: of two concurrent uses, exactly one wins
    used = (
        await conn.execute(
            update(_refresh)
            .where(
                _refresh.c.token_hash == token_hash,
                _refresh.c.used_at.is_(None),
                _refresh.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(_refresh.c.session_id, _refresh.c.expires_at)
        )
    ).first()
    if used is None:
        known = (
            await conn.execute(
                select(_refresh.c.session_id, _refresh.c.used_at).where(
                    _refresh.c.token_hash == token_hash
                )
            )
        ).first()
        if known is not None and known.used_at is not None:
            # a used refresh token came back: someone holds a copy; end the whole family
            await revoke_session(conn, known.session_id, "refresh_reuse")
            await record(
                conn,
                actor=None,
                action="auth.refresh_reuse",
                object_type="session",
                object_id=known.session_id,
                address=address,
            )
        return invalid
    try:
        principal = await principal_for_session(conn, used.session_id)
    except InvalidToken:
        return invalid
    refresh = await _issue_refresh(conn, used.session_id, used.expires_at)
    access = auth.codec.issue(principal.subject, used.session_id, now)
    return Tokens(access, _seconds(auth), refresh)


async def revoke_session(conn: AsyncConnection, session_id: uuid.UUID, reason: str) -> None:
    await conn.execute(
        update(_session)
        .where(_session.c.id == session_id, _session.c.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def revoke(
    conn: AsyncConnection,
    auth: Auth,
    *,
    access_token: str | None,
    token: str | None,
    address: str,
) -> bool:
    """End the session behind an access or refresh token, on the record; unknown tokens are
    ignored (RFC 7009 2.2). Whether a session ended."""
    session_id = await _revoke(conn, auth, access_token=access_token, token=token)
    if session_id is not None:
        await record(
            conn,
            actor=None,
            action="auth.revoke",
            object_type="session",
            object_id=session_id,
            address=address,
        )
    return session_id is not None


async def _revoke(
    conn: AsyncConnection, auth: Auth, *, access_token: str | None, token: str | None
) -> uuid.UUID | None:
    for candidate in (token, access_token):
        if not candidate:
            continue
        try:
            session_id: uuid.UUID | None = auth.codec.decode(candidate).session_id
        except InvalidToken:
            session_id = (
                await conn.execute(
                    select(_refresh.c.session_id).where(
                        _refresh.c.token_hash == hash_opaque(candidate)
                    )
                )
            ).scalar()
        if session_id is not None:
            await revoke_session(conn, session_id, "revoked")
            return session_id
    return None


async def change_password(
    conn: AsyncConnection,
    auth: Auth,
    principal: Principal,
    current_password: str,
    new_password: str,
    address: str,
) -> None:
    """A person changes their own password: throttled like a sign-in (a stolen access token
    must not become an unthrottled password oracle), a wrong current password counts as a
    failure and stays on record; every other sign-in of this person ends, this one goes on."""
    if principal.kind != "user":
        raise Forbidden("Partner systems rotate their secret through an admin.")
    name = f"user:{principal.name}"
    await serialise_attempts(conn, name)
    wait = await throttled(conn, auth, name, address, utcnow())
    if wait is not None:
        raise TooManyRequests("Too many wrong passwords; wait.", headers={"Retry-After": str(wait)})
    stored = (
        await conn.execute(select(_user.c.password_hash).where(_user.c.id == principal.id))
    ).scalar_one()
    ok, _ = await anyio.to_thread.run_sync(auth.passwords.verify, current_password, stored)
    if not ok:
        raise kept(
            InvalidInput(
                [("currentPassword", "is not your current password")],
                "currentPassword is not your current password.",
            ),
            _failure_writes(name, address, principal.id, "user"),
        )
    new_hash = await anyio.to_thread.run_sync(auth.passwords.hash, new_password)
    await conn.execute(
        update(_user)
        .where(_user.c.id == principal.id)
        .values(password_hash=new_hash, updated_at=utcnow())
    )
    await conn.execute(
        update(_session)
        .where(
            _session.c.user_id == principal.id,
            _session.c.id != principal.session_id,
            _session.c.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow(), revoked_reason="password_changed")
    )
    await record(
        conn,
        actor=principal,
        action="user.password_change",
        object_type="user",
        object_id=principal.id,
    )


def me(principal: Principal) -> dict[str, object]:
    return {
        "kind": principal.kind,
        "id": principal.id,
        "username": principal.name,
        "display_name": principal.display_name,
        "role": principal.role,
        "rooms": list(principal.room_slugs),
        "partner": principal.partner_code,
    }
