"""Outcomes: measurements on the two instruments, volunteering, and the district's targets."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, SmallInteger, String
from sqlmodel import Field, SQLModel

from api.base import JsonType, UtcDateTime, utcnow

LADDER = "participation-ladder"
ZRM = "zrm"
INSTRUMENTS = (LADDER, ZRM)
# the 13 domains of the self-sufficiency matrix (zelfredzaamheidsmatrix), in its own order
ZRM_DOMAINS = (
    "finances",
    "work-and-education",
    "time-use",
    "housing",
    "domestic-relations",
    "mental-health",
    "physical-health",
    "substance-use",
    "basic-adl",
    "instrumental-adl",
    "social-network",
    "social-participation",
    "justice",
)
# what the district agrees on: residents who move up a ladder or the matrix, new volunteers
OUTCOME_INDICATORS = ("ladder-up", "zrm-up", "became-volunteer")
# rung 4 of the participation ladder: unpaid work or volunteering
VOLUNTEERING_RUNG = 4


class Assessment(SQLModel, table=True):
    """One measurement of one resident on one instrument, on one day."""

    __table_args__ = (
        CheckConstraint(f"instrument IN ('{LADDER}', '{ZRM}')", name="instrument_known"),
        CheckConstraint("rung IS NULL OR rung BETWEEN 1 AND 6", name="rung_range"),
        Index(None, "resident_id", "assessed_on"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    resident_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("resident.id", ondelete="CASCADE"), nullable=False)
    )
    # the room that measured: it and the resident's home room see the measurement
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), nullable=False))
    instrument: str = Field(sa_column=Column(String(30), nullable=False))
    assessed_on: date
    # the participation ladder's rung; null for the matrix
    rung: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    # the matrix's scores by domain (1 to 5); null for the ladder
    scores: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonType, nullable=True))
    recorded_by: uuid.UUID
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Volunteering(SQLModel, table=True):
    """A resident who became a volunteer of a room: ids and dates only, kept on erasure."""

    __table_args__ = (Index(None, "resident_id"), Index(None, "room_id", "since"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    resident_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("resident.id", ondelete="CASCADE"), nullable=False)
    )
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), nullable=False))
    since: date
    until: date | None = Field(default=None)
    recorded_by: uuid.UUID
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class OutcomeTarget(SQLModel, table=True):
    """A yearly outcome agreement per room: how many residents should move or volunteer."""

    __tablename__ = "outcome_target"
    __table_args__ = (
        CheckConstraint("value >= 0", name="value_not_negative"),
        CheckConstraint(
            "indicator IN ({})".format(", ".join(f"'{i}'" for i in OUTCOME_INDICATORS)),
            name="indicator_known",
        ),
    )

    year: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), primary_key=True))
    indicator: str = Field(sa_column=Column(String(40), primary_key=True))
    value: int = Field(sa_column=Column(Integer, nullable=False))
