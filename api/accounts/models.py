"""People who sign in (users), partner systems that do (partner clients), and their sign-in
sessions (ended when an account is switched off or its password changes)."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.base import UtcDateTime, utcnow

ROLES = ("volunteer", "coordinator", "stadsdeel", "partner", "admin")
USER_ROLES = ("volunteer", "coordinator", "stadsdeel", "admin")


class UserAccount(SQLModel, table=True):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role IN ('volunteer', 'coordinator', 'stadsdeel', 'admin')", name="role_known"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=60, unique=True)
    display_name: str = Field(max_length=120)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    active: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class UserRoom(SQLModel, table=True):
    __tablename__ = "user_room"

    user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    )
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), primary_key=True))


class PartnerClient(SQLModel, table=True):
    __tablename__ = "partner_client"
    __table_args__ = (Index(None, "partner_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    client_id: str = Field(max_length=60, unique=True)
    description: str = Field(max_length=200)
    partner_id: int = Field(sa_column=Column(Integer, ForeignKey("partner.id"), nullable=False))
    secret_hash: str = Field(max_length=255)
    active: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


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
