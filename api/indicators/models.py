"""Performance agreements (prestatieafspraken): a yearly target per room and indicator; and
the rollup the figures are counted from."""

import uuid

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, SmallInteger, String
from sqlmodel import Field, SQLModel


class Target(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("value >= 0", name="value_not_negative"),
        CheckConstraint("unit IN ('services', 'participants')", name="unit_known"),
    )

    year: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id"), primary_key=True))
    # an activity code, or 'unique-visitors'
    indicator: str = Field(sa_column=Column(String(40), primary_key=True))
    unit: str = Field(max_length=20)
    value: int = Field(sa_column=Column(Integer, nullable=False))


class Presence(SQLModel, table=True):
    """The figures' rollup: a resident's live registrations per year and month, at a room and
    activity, a room (activity 0), an activity (room 0) and anywhere (both 0). A row exists
    while one of its months counts something; `months` has bit k-1 set while month k does.
    Kept by triggers on registration in the writing transaction (api/indicators/rollup.py);
    `bwk rollup check` compares it with the registrations, `bwk rollup rebuild` remakes it."""

    year: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    # the key in this order: a year's rows of one level (activity 0: per room) lie together
    activity_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    room_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    resident_id: uuid.UUID = Field(primary_key=True)
    months: int = Field(sa_column=Column(Integer, nullable=False))
    m01: int = Field(sa_column=Column(Integer, nullable=False))
    m02: int = Field(sa_column=Column(Integer, nullable=False))
    m03: int = Field(sa_column=Column(Integer, nullable=False))
    m04: int = Field(sa_column=Column(Integer, nullable=False))
    m05: int = Field(sa_column=Column(Integer, nullable=False))
    m06: int = Field(sa_column=Column(Integer, nullable=False))
    m07: int = Field(sa_column=Column(Integer, nullable=False))
    m08: int = Field(sa_column=Column(Integer, nullable=False))
    m09: int = Field(sa_column=Column(Integer, nullable=False))
    m10: int = Field(sa_column=Column(Integer, nullable=False))
    m11: int = Field(sa_column=Column(Integer, nullable=False))
    m12: int = Field(sa_column=Column(Integer, nullable=False))
