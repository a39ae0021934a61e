"""Performance agreements (prestatieafspraken): a yearly target per room and indicator."""

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
