"""Residents over the wire: pseudonymous by default, everything else optional."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from api.residents import codes
from api.schemas import SLUG_PATTERN, ApiModel, InputModel, Page
from api.text import Text

AgeBand = Literal["0-17", "18-26", "27-44", "45-66", "67+"]
Language = Field(pattern=r"^[a-z]{2,3}$")
RoomSlug = Field(pattern=SLUG_PATTERN, max_length=60, examples=["multibron"])
CODE_PATTERN = codes.PATTERN


class ResidentFields(InputModel):
    name: Text | None = Field(None, max_length=120, description="Only if the resident wants it")
    contact: Text | None = Field(None, max_length=200, description="Phone or e-mail, optional")
    birth_year: int | None = Field(None, ge=1900, le=2100)
    age_band: AgeBand | None = Field(None, description="When the birth year is not given")
    postcode_area: str | None = Field(
        None, pattern=r"^[1-9][0-9]{3}$", description="The four digits of the postcode"
    )
    languages: list[str] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _one_age(self) -> "ResidentFields":
        if self.birth_year is not None and self.age_band is not None:
            raise ValueError("give a birth year or an age band, not both")
        if self.birth_year is not None and self.birth_year > date.today().year:
            raise ValueError("the birth year is in the future")
        for code in self.languages:
            if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha() and code.islower()):
                raise ValueError("languages are ISO 639 codes such as 'nl' or 'pap'")
        return self


class ResidentCreate(ResidentFields):
    room: str = RoomSlug


class ResidentUpdate(InputModel):
    partial = True
    nullable = frozenset({"name", "contact", "birth_year", "age_band", "postcode_area"})

    name: Text | None = Field(None, max_length=120)
    contact: Text | None = Field(None, max_length=200)
    birth_year: int | None = Field(None, ge=1900, le=2100)
    age_band: AgeBand | None = None
    postcode_area: str | None = Field(None, pattern=r"^[1-9][0-9]{3}$")
    languages: list[str] | None = Field(None, max_length=10)


class ResidentPublic(ApiModel):
    id: UUID
    code: str | None = Field(description="Show this at any room; null once erased")
    name: str | None
    contact: str | None
    birth_year: int | None
    age_band: AgeBand | None
    postcode_area: str | None
    languages: list[str]
    home_room: str
    rooms: list[str] = Field(description="The rooms that serve this resident")
    restricted: bool = Field(description="Processing restricted (GDPR art. 18): kept only")
    created_at: datetime
    updated_at: datetime


class ResidentPage(Page[ResidentPublic]):
    pass
