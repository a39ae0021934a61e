"""Outcome measurements, volunteering, outcome figures and targets over the wire."""

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StrictInt, ValidationInfo, WithJsonSchema, field_validator

from api.calendar import today
from api.figures import DisclosureControl, LabelNl, Number, PeriodPublic
from api.outcomes.models import LADDER, ZRM, ZRM_DOMAINS
from api.residents.schemas import RoomSlug
from api.schemas import ApiModel, InputModel, Page, Slug

Instrument = Literal["participation-ladder", "zrm"]
OutcomeIndicator = Literal["ladder-up", "zrm-up", "became-volunteer"]
# checked by a validator, so an error names the field and never echoes a client's key
Scores = Annotated[
    dict[str, StrictInt],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"enum": list(ZRM_DOMAINS)},
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
            "minProperties": 1,
        }
    ),
]
# strict: a JSON true is not rung 1
Rung = Annotated[int, Field(ge=1, le=6, strict=True)]


class AssessmentCreate(InputModel):
    room: Slug | None = Field(
        None,
        examples=["multibron"],
        description="The room of yours that took the measurement; it and the resident's home "
        "room see it. By default the home room if you work there, else the one room of yours "
        "that serves the resident",
    )
    instrument: Instrument
    assessed_on: date = Field(description="The day of the measurement (not in the future)")
    rung: Rung | None = Field(
        None,
        validate_default=True,
        description="Participation ladder only: 1 isolated, 2 social contacts outside the "
        "home, 3 organised activities, 4 unpaid work or volunteering, 5 paid work with "
        "support, 6 paid work",
    )
    scores: Scores | None = Field(
        None,
        validate_default=True,
        description="Self-sufficiency matrix only: a score from 1 (acute problem) to 5 (fully "
        "self-sufficient) per domain; any domain may be left out, at least one is given",
    )

    @field_validator("assessed_on")
    @classmethod
    def _a_day_we_measure(cls, value: date) -> date:
        if value > today():
            raise ValueError("is in the future")
        if value.year < 2000:
            raise ValueError("is before 2000")
        return value

    @field_validator("rung")
    @classmethod
    def _rung_for_ladder(cls, value: int | None, info: ValidationInfo) -> int | None:
        instrument = info.data.get("instrument")
        if instrument == LADDER and value is None:
            raise ValueError("the participation ladder needs a rung")
        if instrument == ZRM and value is not None:
            raise ValueError("only the participation ladder has a rung")
        return value

    @field_validator("scores")
    @classmethod
    def _scores_for_zrm(
        cls, value: dict[str, int] | None, info: ValidationInfo
    ) -> dict[str, int] | None:
        instrument = info.data.get("instrument")
        if instrument == LADDER and value is not None:
            raise ValueError("only the self-sufficiency matrix has scores")
        if instrument != ZRM:
            return value
        if not value:
            raise ValueError("give a score for at least one domain")
        problems = []
        if set(value) - set(ZRM_DOMAINS):
            problems.append("unknown domain (the domains are " + ", ".join(ZRM_DOMAINS) + ")")
        if any(not 1 <= score <= 5 for score in value.values()):
            problems.append("every score is 1 to 5")
        if problems:
            raise ValueError("; ".join(problems))
        return value


class AssessmentPublic(ApiModel):
    id: UUID
    resident_id: UUID
    room: str = Field(description="The room that took the measurement")
    instrument: Instrument
    assessed_on: date
    rung: int | None = Field(description="Participation ladder; null for the matrix")
    scores: dict[str, int] | None = Field(
        description="Matrix scores by domain; null for the ladder"
    )
    recorded_by: UUID
    created_at: datetime


class AssessmentPage(Page[AssessmentPublic]):
    pass


class VolunteeringCreate(InputModel):
    room: str = RoomSlug
    since: date = Field(
        description="The day the resident became a volunteer of the room (not in the future)"
    )


class VolunteeringPublic(ApiModel):
    id: UUID
    resident_id: UUID
    room: str
    since: date
    until: date | None
    recorded_by: UUID
    created_at: datetime


class VolunteeringRecorded(VolunteeringPublic):
    suggested_rung: Literal[4] | None = Field(
        description="4 when the latest participation ladder measurement is below rung 4 "
        "(volunteering): a hint to record the new rung; null otherwise"
    )


class VolunteeringPage(Page[VolunteeringPublic]):
    pass


class Movement(ApiModel):
    measured: int | None = Field(
        description="Residents with a first and a later measurement in the year; null: hidden"
    )
    up: int | None = Field(description="null: hidden, fewer than 5 people or derivable")
    same: int | None
    down: int | None


class DomainMovement(Movement):
    domain: str = Field(json_schema_extra={"enum": list(ZRM_DOMAINS)})
    label_nl: str = LabelNl


class InstrumentFigures(Movement):
    instrument: Instrument
    label_nl: str = LabelNl
    median_days_between: float | None = Field(
        description="Median days between the first and the latest measurement; null where "
        "`measured` is hidden"
    )
    target: Number | None = Field(
        description="The agreed number moving up (ladder-up, zrm-up), pro rata for the period"
    )
    attainment: float | None = Field(description="up / target; null without a target")
    domains: list[DomainMovement] = Field(
        description="The matrix per domain (first and latest score of that domain); empty for "
        "the ladder. The instrument's own figures compare the sum of the domains that both the "
        "first and the latest measurement score"
    )


class OutcomeFigures(ApiModel):
    instruments: list[InstrumentFigures]
    became_volunteer: int | None = Field(
        description="Residents who became a volunteer in the year; null: hidden"
    )
    became_volunteer_target: Number | None = Field(description="Pro rata for the period")
    became_volunteer_attainment: float | None


class RoomOutcomes(OutcomeFigures):
    room: str
    label_nl: str = LabelNl


class Outcomes(ApiModel):
    year: int
    period: PeriodPublic
    suppressed: bool = Field(description="Whether small cells were hidden for your role")
    disclosure_control: DisclosureControl
    rooms: list[RoomOutcomes]
    totals: OutcomeFigures = Field(
        description="Distinct residents across the rooms asked for (for the district roles: "
        "across every room); targets summed"
    )


class OutcomeTargetPublic(ApiModel):
    year: int
    room: str
    indicator: OutcomeIndicator
    value: int


class OutcomeTargetPage(Page[OutcomeTargetPublic]):
    pass


class OutcomeTargetItem(InputModel):
    room: str = RoomSlug
    indicator: OutcomeIndicator
    value: int = Field(ge=0, le=1_000_000)


class OutcomeTargetSet(InputModel):
    items: list[OutcomeTargetItem] = Field(max_length=1000)
