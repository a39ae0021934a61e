"""Registrations over the wire."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from api.residents import codes
from api.residents.schemas import CODE_PATTERN, ResidentFields, RoomSlug
from api.schemas import ApiModel, InputModel, Page
from api.text import Text

ACTIVITY_PATTERN = r"^[a-z]+(-[a-z]+)*$"


class RegistrationCreate(InputModel):
    room: str = RoomSlug
    activity: str = Field(pattern=ACTIVITY_PATTERN, max_length=40, examples=["forms"])
    occurred_on: date = Field(description="The day the help was given (Amsterdam date)")
    resident_id: UUID | None = None
    resident_code: str | None = Field(
        None,
        pattern=CODE_PATTERN,
        max_length=12,
        examples=[codes.EXAMPLE],
        description="The code the resident shows; a mistyped character is a 422",
    )
    resident: ResidentFields | None = Field(
        None, description="A new resident, registered together with this first help"
    )
    headcount: int | None = Field(
        None, ge=1, le=1000, description="For an anonymous group: how many took part"
    )
    note: Text | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _who(self) -> "RegistrationCreate":
        given = [x is not None for x in (self.resident_id, self.resident_code, self.resident)]
        if sum(given) > 1:
            raise ValueError("give one of residentId, residentCode or resident")
        if any(given) and self.headcount not in (None, 1):
            raise ValueError("a registration for one resident has headcount 1")
        if not any(given) and self.headcount is None:
            raise ValueError("an anonymous group registration needs a headcount")
        return self


class RegistrationUpdate(InputModel):
    partial = True
    nullable = frozenset({"note"})

    reason: Text = Field(min_length=3, max_length=500, description="Why this is corrected")
    activity: str | None = Field(None, pattern=ACTIVITY_PATTERN, max_length=40)
    occurred_on: date | None = None
    headcount: int | None = Field(None, ge=1, le=1000)
    note: Text | None = Field(None, max_length=500)
    voided: Literal[True] | None = Field(
        None, description="true voids the registration: it leaves every figure"
    )


class RegistrationPublic(ApiModel):
    id: UUID
    room: str
    activity: str
    occurred_on: date
    resident_id: UUID | None
    headcount: int
    note: str | None
    registered_by: UUID | None
    created_at: datetime
    updated_at: datetime
    version: int
    voided: bool
    voided_at: datetime | None
    void_reason: str | None


class RegistrationPage(Page[RegistrationPublic]):
    pass
