"""Residents: a record of the cooperative, with the least personal data that serves."""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, SmallInteger
from sqlmodel import Field, SQLModel

from api.base import JsonType, UtcDateTime, utcnow


class Resident(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(
            "birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100", name="birth_year"
        ),
        Index(None, "home_room_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # short code for paper lists and for showing at another room; gone on erasure
    code: str | None = Field(default=None, max_length=9, unique=True)
    name: str | None = Field(default=None, max_length=120)
    contact: str | None = Field(default=None, max_length=200)
    birth_year: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    age_band: str | None = Field(default=None, max_length=10)
    postcode_area: str | None = Field(default=None, max_length=4)
    languages: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    home_room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), nullable=False))
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # GDPR art. 18: kept, but not processed (no new help, no changes, not in lists)
    restricted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ResidentRoom(SQLModel, table=True):
    """The rooms that serve a resident: its home room and every room that helped it."""

    __tablename__ = "resident_room"
    __table_args__ = (Index(None, "room_id"),)

    resident_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("resident.id", ondelete="CASCADE"), primary_key=True)
    )
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), primary_key=True))
    since: date
