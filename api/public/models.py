"""A chain partner's assignment as an admin entered it: what it is there for, and the
activities it does, published at /public/assignments."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from api.base import JsonType, UtcDateTime, utcnow


class PartnerAssignment(SQLModel, table=True):
    __tablename__ = "partner_assignment"

    partner_id: int = Field(
        sa_column=Column(Integer, ForeignKey("partner.id"), primary_key=True, autoincrement=False)
    )
    text: str = Field(sa_column=Column(String(4000), nullable=False))
    activities: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
