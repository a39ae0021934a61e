"""The open directory over the wire."""

import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from api.schemas import ApiModel, InputModel, Page
from api.text import Text

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ClockTime = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:30"])


class OpeningHours(ApiModel):
    day: Weekday
    opens: str = ClockTime
    closes: str = ClockTime


class RoomPublic(ApiModel):
    slug: str = Field(examples=["multibron"])
    name: str
    neighbourhood: str
    address: str | None
    postcode: str | None
    opened_on: date
    subsidy: Literal["structural", "incidental"]
    languages: list[str] = Field(description="Languages spoken at the desk (ISO 639-1).")
    opening_hours: list[OpeningHours]
    activities: list[str] = Field(description="Codes of the activities the room offers.")


class ActivityPublic(ApiModel):
    code: str = Field(examples=["forms"])
    label_nl: str
    label_en: str
    target_unit: Literal["services", "participants"]


class PartnerPublic(ApiModel):
    code: str = Field(examples=["madi"])
    name: str
    kind: str


class RoomUpdate(InputModel):
    """What an admin may change; the slug is a published identifier and stays."""

    partial = True
    nullable = frozenset({"address", "postcode"})

    name: Text | None = Field(None, min_length=1, max_length=120)
    neighbourhood: Text | None = Field(None, min_length=1, max_length=120)
    address: Text | None = Field(None, max_length=200)
    postcode: str | None = Field(None, pattern=r"^[1-9][0-9]{3} ?[A-Z]{2}$")
    languages: list[str] | None = Field(None, max_length=20)
    opening_hours: list[OpeningHours] | None = Field(None, max_length=28)
    activities: list[str] | None = Field(None, max_length=20)

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for code in value:
                if not re.fullmatch(r"[a-z]{2,3}", code):
                    raise ValueError(f"'{code[:10]}' is not an ISO 639 language code")
        return value


class RoomPage(Page[RoomPublic]):
    pass


class ActivityPage(Page[ActivityPublic]):
    pass


class PartnerPage(Page[PartnerPublic]):
    pass
