"""The audit trail: append-only, ids only (never names or notes)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from api.base import JsonType, UtcDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index(None, "at"),
        Index(None, "actor_id", "at"),
        Index(None, "resident_id", "at"),
        Index(None, "action", "at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # who: a user or a partner client (None: not signed in)
    actor_kind: str = Field(max_length=10)
    actor_id: uuid.UUID | None = Field(default=None)
    actor_role: str | None = Field(default=None, max_length=20)
    # what
    action: str = Field(max_length=60)
    object_type: str | None = Field(default=None, max_length=40)
    object_id: str | None = Field(default=None, max_length=64)
    # about whom (personal-data events; the privacy work fills it)
    resident_id: uuid.UUID | None = Field(default=None)
    request_id: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonType, nullable=False)
    )
