"""Registrations: one activity or service delivered, to a resident or an anonymous group."""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, text
from sqlmodel import Field, SQLModel

from api.base import UtcDateTime, utcnow


class Registration(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("headcount >= 1", name="headcount_positive"),
        CheckConstraint("resident_id IS NULL OR headcount = 1", name="one_resident_one_count"),
        Index(None, "room_id", "occurred_on", "id"),
        Index(None, "resident_id", "occurred_on"),
        # the figures read only live registrations
        Index(
            "ix_registration_live_figures",
            "occurred_on",
            "room_id",
            "activity_id",
            postgresql_where=text("voided_at IS NULL"),
            sqlite_where=text("voided_at IS NULL"),
        ),
        # the services of anonymous groups (residents' come from the presence rollup)
        Index(
            "ix_registration_live_groups",
            "occurred_on",
            "room_id",
            "activity_id",
            "headcount",
            postgresql_where=text("voided_at IS NULL AND resident_id IS NULL"),
            sqlite_where=text("voided_at IS NULL AND resident_id IS NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), nullable=False))
    activity_id: int = Field(sa_column=Column(Integer, ForeignKey("activity.id"), nullable=False))
    occurred_on: date
    resident_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("resident.id"), nullable=True)
    )
    headcount: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    note: str | None = Field(default=None, max_length=500)
    registered_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    voided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    voided_by: uuid.UUID | None = Field(default=None)
    void_reason: str | None = Field(default=None, max_length=500)
