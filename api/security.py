"""Tokens and password hashes: the only module that imports jose or pwdlib.

Access tokens are HS256 JWTs. Every claim the service relies on is required and checked
here (RFC 8725): the algorithm is fixed, the key is chosen by `kid` from the service's own
key set, and `exp`, `nbf`, `iat`, `iss`, `aud`, `sub`, `jti` must all be present.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from api.settings import Settings

ALGORITHM = "HS256"
_REQUIRED = ("exp", "iat", "nbf", "iss", "aud", "sub", "jti", "sid")


class InvalidToken(Exception):
    """The token is not one this service made, or no longer valid; the reason is for logs."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: str
    session_id: uuid.UUID
    token_id: str
    expires_at: datetime


class TokenCodec:
    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.token_issuer
        self.audience = settings.token_audience
        self.lifetime = timedelta(minutes=settings.access_token_minutes)
        self.current_kid = settings.secret_key_id
        self.keys = {
            kid: key.get_secret_value() for kid, key in settings.previous_secret_keys.items()
        }
        self.keys[self.current_kid] = settings.secret_key.get_secret_value()

    def issue(self, subject: str, session_id: uuid.UUID, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "sid": str(session_id),
            "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + self.lifetime).timestamp()),
        }
        return jwt.encode(
            claims,
            self.keys[self.current_kid],
            algorithm=ALGORITHM,
            headers={"kid": self.current_kid},
        )

    def decode(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise InvalidToken("malformed") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm")
        key = self.keys.get(str(header.get("kid")))
        if key is None:
            raise InvalidToken("unknown kid")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                    "verify_aud": True,
                    "verify_iss": True,
                    "verify_sub": True,
                    "verify_jti": True,
                    "require_exp": True,
                    "require_iat": True,
                    "require_nbf": True,
                    "require_iss": True,
                    "require_aud": True,
                    "require_sub": True,
                    "require_jti": True,
                    "leeway": 0,
                },
            )
        except JWTError as exc:
            raise InvalidToken(type(exc).__name__) from exc
        if any(claims.get(name) in (None, "") for name in _REQUIRED):
            raise InvalidToken("missing claim")
        try:
            session_id = uuid.UUID(str(claims["sid"]))
        except ValueError as exc:
            raise InvalidToken("sid") from exc
        return AccessClaims(
            subject=str(claims["sub"]),
            session_id=session_id,
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )


def new_refresh_token() -> tuple[str, str]:
    """An opaque refresh token and the hash that is stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_opaque(token)


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_opaque(token: str) -> str:
    # High-entropy random tokens need no slow hash; SHA-256 keeps them unusable if leaked.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Passwords:
    """Argon2id hashing; an unknown account is checked against a dummy hash for equal time."""

    def __init__(self, settings: Settings) -> None:
        self.hasher = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.password_hash_time_cost,
                    memory_cost=settings.password_hash_memory_kib,
                ),
            )
        )
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """(matches, new hash if the stored one should be upgraded)."""
        if stored is None:
            self.hasher.verify(password, self._dummy)
            return False, None
        try:
            return self.hasher.verify_and_update(password, stored)
        except Exception:  # a corrupt stored hash is a failed sign-in, not a crash
            return False, None
