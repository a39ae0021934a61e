"""The rotating refresh tokens of sign-in sessions, and failed sign-ins for throttling (the
sessions themselves belong to the accounts: api/accounts/models.py).

Everything here lives in the database so that any replica can answer any request.
"""

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from api.base import UtcDateTime, utcnow


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
