"""Indicators and targets over the wire."""

from typing import Literal

from pydantic import Field

from api.figures import DisclosureControl, LabelNl, Number, PeriodPublic, Unit
from api.schemas import ApiModel, InputModel, Page, Slug


class IndicatorFigure(ApiModel):
    indicator: str = Field(description="An activity code, or unique-visitors")
    label_nl: str = LabelNl
    unit: Unit
    target: Number | None = Field(description="The year's target, pro rata for the period")
    realised: int | None = Field(description="null: hidden (see `disclosureControl`)")
    attainment: Number | None = Field(description="realised / target; null without a target")
    expected_to_date: Number | None = Field(
        description="The target pro rata up to today; the whole target for a closed period",
        # a number, not a date, whatever its name suggests to the ADR linter
        json_schema_extra={"format": "double"},
    )


class TotalFigure(IndicatorFigure):
    realised_sum_of_rooms: int | None = Field(
        description="The plain sum of the rooms' figures (for distinct counts: people who "
        "visited several rooms count once in `realised`, once per room here); null where a "
        "room's figure is hidden"
    )


class RoomFigures(ApiModel):
    room: str
    label_nl: str = LabelNl
    indicators: list[IndicatorFigure]


class Totals(ApiModel):
    indicators: list[TotalFigure]


class Performance(ApiModel):
    year: int
    period: PeriodPublic
    disclosure_control: DisclosureControl
    rooms: list[RoomFigures]
    totals: Totals


class TargetPublic(ApiModel):
    year: int
    room: str
    indicator: str
    unit: Unit
    value: int


class TargetPage(Page[TargetPublic]):
    pass


class TargetItem(InputModel):
    room: Slug
    indicator: str = Field(pattern=r"^[a-z]+(-[a-z]+)*$", max_length=40)
    unit: Unit
    value: int = Field(ge=0, le=1_000_000)


class TargetSet(InputModel):
    items: list[TargetItem] = Field(max_length=1000)


class Cell(ApiModel):
    group: str = Field(
        description="An age band (at the end of the year), a postcode area, or 'unknown'"
    )
    participants: int | None = Field(
        description="null: hidden, 1 to 4 people or one that would let such a count be worked out"
    )


class BreakdownRow(ApiModel):
    total: int | None = Field(description="The row's unique visitors; null: hidden")
    cells: list[Cell]


class RoomBreakdown(BreakdownRow):
    room: str
    label_nl: str = LabelNl


class Breakdown(ApiModel):
    year: int
    period: PeriodPublic
    by: Literal["age-band", "postcode-area"]
    suppressed: bool = Field(description="Whether small cells were hidden for your role")
    disclosure_control: DisclosureControl
    rooms: list[RoomBreakdown]
    district: BreakdownRow = Field(
        description="Distinct across the rooms asked for; for the district roles, across every room"
    )
