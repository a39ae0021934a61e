"""A resident's consent to let a partner know who is referred to it."""

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.base import UtcDateTime, utcnow


class Consent(SQLModel, table=True):
    __table_args__ = (Index(None, "resident_id", "partner_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    resident_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("resident.id", ondelete="CASCADE"), nullable=False)
    )
    partner_id: int = Field(sa_column=Column(Integer, ForeignKey("partner.id"), nullable=False))
    purpose: str = Field(max_length=40)
    text_version: str = Field(max_length=40)
    recorded_by: uuid.UUID
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    withdrawn_by: uuid.UUID | None = Field(default=None)
