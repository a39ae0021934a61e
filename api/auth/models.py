"""Sign-in sessions, their rotating refresh tokens, and failed sign-ins for throttling.

Everything here lives in the database so that any replica can answer any request.
"""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from api.base import UtcDateTime, utcnow


class AuthSession(SQLModel, table=True):
    """One sign-in: its access tokens carry its id (`sid`); revoking it ends them all."""

    __tablename__ = "auth_session"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (client_id IS NULL)", name="one_subject"),
        Index(None, "user_id"),
        Index(None, "client_id"),
        Index(None, "expires_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=True),
    )
    client_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("partner_client.id", ondelete="CASCADE"), nullable=True),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_reason: str | None = Field(default=None, max_length=40)


class RefreshToken(SQLModel, table=True):
    """A refresh token by its SHA-256; used once, then replaced by the next of its family."""

    __tablename__ = "refresh_token"
    __table_args__ = (Index(None, "session_id"),)

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    session_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("auth_session.id", ondelete="CASCADE"), nullable=False)
    )
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failure"
    __table_args__ = (Index(None, "username", "at"), Index(None, "address", "at"))

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80)  # 'user:<username>' or 'client:<client id>'
    address: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
