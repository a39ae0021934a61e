"""People who sign in (users) and partner systems that do (partner clients)."""

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
