"""Idempotency records: a POST's first answer, kept per caller and key until it expires."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, String
from sqlmodel import Field, SQLModel

from api.base import JsonType, UtcDateTime


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (Index(None, "expires_at"),)

    subject: str = Field(sa_column=Column(String(80), primary_key=True))
    key: str = Field(sa_column=Column(String(255), primary_key=True))
    fingerprint: str = Field(max_length=64)
    # null until the request that claimed the key stores its answer, in the same transaction
    status_code: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    body: Any = Field(default=None, sa_column=Column(JsonType, nullable=True))
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
