"""The assignments in the open over the wire: codes with their Dutch labels, no people."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.budgets.schemas import Euros
from api.figures import DisclosureControl, Number, PeriodPublic, Unit
from api.rooms.schemas import OpeningHours
from api.schemas import ApiModel, InputModel
from api.text import Text


class Labelled(ApiModel):
    label_nl: str = Field(description="The Dutch label")


class RoomLabel(Labelled):
    room: str


class ActivityTarget(Labelled):
    activity: str
    unit: Unit
    target: int | None = Field(description="The year's agreed number; null: none agreed")


class Subsidy(ApiModel):
    grantor: str
    kind: Literal["structural", "incidental"]
    amount: Euros
    joint: bool = Field(description="One grant for several rooms together (see `rooms`)")
    rooms: list[RoomLabel]


class QuarterFigure(Labelled):
    indicator: str = Field(description="An activity code, or unique-visitors")
    unit: Unit
    target: Number | None = Field(description="The year's target pro rata for the quarter")
    realised: int | None = Field(description="null: hidden (see `disclosureControl`)")
    attainment: Number | None


class Quarter(ApiModel):
    quarter: int = Field(ge=1, le=4)
    period: PeriodPublic
    disclosure_control: DisclosureControl
    indicators: list[QuarterFigure]


class RoomAssignment(RoomLabel):
    neighbourhood: str
    address: str | None
    postcode: str | None
    languages: list[str]
    opening_hours: list[OpeningHours]
    activities: list[ActivityTarget]
    subsidies: list[Subsidy] = Field(description="The grants that fund the room this year")
    quarters: list[Quarter] = Field(description="The quarters of the year begun so far")


class DistrictQuarters(ApiModel):
    quarters: list[Quarter] = Field(description="Distinct across every room")


class ActivityLabel(Labelled):
    activity: str


class PartnerAssignmentPublic(Labelled):
    partner: str
    kind: str
    assignment: str | None = Field(description="What the partner is there for; null: not entered")
    activities: list[ActivityLabel]
    updated_at: datetime | None


class Assignments(ApiModel):
    year: int
    disclosure_control: DisclosureControl
    rooms: list[RoomAssignment]
    district: DistrictQuarters
    partners: list[PartnerAssignmentPublic]


class AssignmentSet(InputModel):
    text: Text = Field(min_length=3, max_length=4000, description="The partner's assignment")
    activities: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Codes of the activities it does (see /activities)",
    )
