"""Referrals between a room and a chain partner, and their history."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.base import UtcDateTime, utcnow


class Referral(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("direction IN ('outgoing', 'incoming')", name="direction_known"),
        CheckConstraint(
            "status IN ('sent', 'accepted', 'declined', 'withdrawn', 'completed', 'no_show')",
            name="status_known",
        ),
        Index(None, "room_id", "created_at"),
        Index(None, "partner_id", "created_at"),
        Index(None, "status", "status_changed_at"),
        Index(None, "resident_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), nullable=False))
    partner_id: int = Field(sa_column=Column(Integer, ForeignKey("partner.id"), nullable=False))
    direction: str = Field(max_length=10)
    # outgoing: the resident referred; incoming: set when the room links the person
    resident_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("resident.id"), nullable=True)
    )
    # what the partner gave to reach the person (incoming only)
    contact: str | None = Field(default=None, max_length=300)
    reason: str = Field(max_length=1000)
    status: str = Field(max_length=12)
    outcome_reason: str | None = Field(default=None, max_length=30)
    room_note: str | None = Field(default=None, max_length=1000)
    partner_note: str | None = Field(default=None, max_length=1000)
    created_by: uuid.UUID
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    status_changed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ReferralEvent(SQLModel, table=True):
    """One move of a referral; its note is seen only by the side that wrote it."""

    __tablename__ = "referral_event"
    __table_args__ = (Index(None, "referral_id", "at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    referral_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("referral.id", ondelete="CASCADE"), nullable=False)
    )
    status: str = Field(max_length=12)
    side: str = Field(max_length=10)  # 'room' or 'partner'
    actor_id: uuid.UUID
    reason: str | None = Field(default=None, max_length=30)
    note: str | None = Field(default=None, max_length=1000)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
