"""Partner webhooks: where to send, what waits to be sent, and what happened when sent."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.base import JsonType, UtcDateTime, utcnow


class Webhook(SQLModel, table=True):
    partner_id: int = Field(sa_column=Column(Integer, ForeignKey("partner.id"), primary_key=True))
    url: str = Field(max_length=500)
    secret: str = Field(max_length=100)  # HMAC key, shown once to the admin
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class OutboxEvent(SQLModel, table=True):
    """Written in the same transaction as the change it reports."""

    __tablename__ = "outbox_event"
    __table_args__ = (Index(None, "delivered_at", "next_attempt_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    partner_id: int = Field(sa_column=Column(Integer, ForeignKey("partner.id"), nullable=False))
    type: str = Field(max_length=40)
    payload: dict[str, Any] = Field(sa_column=Column(JsonType, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Delivery(SQLModel, table=True):
    """One attempt to deliver an event: the delivery log."""

    __table_args__ = (Index(None, "event_id", "at"), Index(None, "at"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    event_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("outbox_event.id", ondelete="CASCADE"), nullable=False)
    )
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    status_code: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    error: str | None = Field(default=None, max_length=200)
    milliseconds: int = Field(sa_column=Column(Integer, nullable=False))
