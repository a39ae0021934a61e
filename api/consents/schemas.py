"""Consents over the wire."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from api.schemas import ApiModel, Code, InputModel, Page


class ConsentCreate(InputModel):
    partner: Code
    purpose: Literal["referral"] = Field(
        "referral", description="referral: the partner may know who is referred to it"
    )
    text_version: str = Field(
        pattern=r"^[A-Za-z0-9._-]{1,40}$", description="The version of the consent text read"
    )


class ConsentPublic(ApiModel):
    id: UUID
    partner: str
    purpose: str
    text_version: str
    recorded_by: UUID
    recorded_at: datetime
    withdrawn_at: datetime | None


class ConsentPage(Page[ConsentPublic]):
    pass
