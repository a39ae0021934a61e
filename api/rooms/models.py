"""The open directory: rooms, the activities they offer, the chain partners."""

from datetime import date
from typing import Any

from sqlalchemy import Column, SmallInteger
from sqlmodel import Field, SQLModel

from api.base import JsonType


class Activity(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    label_nl: str = Field(max_length=120)
    label_en: str = Field(max_length=120)
    target_unit: str = Field(max_length=20)
    position: int = Field(sa_type=SmallInteger)


class Room(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=120)
    neighbourhood: str = Field(max_length=120)
    address: str | None = Field(default=None, max_length=200)
    postcode: str | None = Field(default=None, max_length=7)
    opened_on: date
    subsidy: str = Field(max_length=20)
    languages: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    opening_hours: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JsonType, nullable=False)
    )


class RoomActivity(SQLModel, table=True):
    __tablename__ = "room_activity"

    room_id: int = Field(foreign_key="room.id", primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", primary_key=True)


class Partner(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=40)
