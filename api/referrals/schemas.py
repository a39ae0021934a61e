"""Referrals and consents over the wire."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from api.figures import LabelNl
from api.schemas import ApiModel, Code, InputModel, Page, Slug
from api.text import Text

Status = Literal["sent", "accepted", "declined", "withdrawn", "completed", "no_show"]
Reason = Literal["no-capacity", "not-eligible", "resident-declined", "could-not-reach", "other"]


class ReferralCreate(InputModel):
    room: Slug
    partner: Code | None = Field(
        None,
        description="Rooms: the partner referred to. Partners: leave out (it is you)",
    )
    resident_id: UUID | None = Field(None, description="Rooms: the resident referred")
    reason: Text = Field(min_length=3, max_length=1000, description="What the person needs")
    contact: Text | None = Field(
        None, max_length=300, description="Partners: how the room can reach the person"
    )
    note: Text | None = Field(None, max_length=1000, description="Your side's own note")


class Transition(InputModel):
    to: Status
    reason: Reason | None = Field(
        None, description="Required to decline, withdraw or mark a no-show"
    )
    note: Text | None = Field(None, max_length=1000, description="Seen by your side only")


class Move(ApiModel):
    status: Status
    at: datetime
    by: Literal["room", "partner"]
    reason: Reason | None
    note: str | None = Field(description="Only the notes of your own side are shown")


class Identity(ApiModel):
    name: str | None
    contact: str | None
    birth_year: int | None


class ReferralPublic(ApiModel):
    id: UUID
    room: str
    partner: str
    direction: Literal["outgoing", "incoming"]
    resident_id: UUID | None = Field(description="Shown to the room's staff only")
    identity: Identity | None = Field(
        description="Who the person is: to the partner only with active consent"
    )
    contact: str | None
    reason: str
    status: Status
    outcome_reason: Reason | None
    note: str | None = Field(description="Your side's own note")
    overdue: bool
    created_at: datetime
    status_changed_at: datetime
    history: list[Move]


class ReferralPage(Page[ReferralPublic]):
    pass


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


class PartnerFigures(ApiModel):
    partner: str
    label_nl: str = LabelNl
    direction: Literal["outgoing", "incoming"]
    total: int
    by_status: dict[Status, int]
    closure_rate: float | None = Field(description="Share that reached an end state")
    completion_rate: float | None
    median_days_to_acceptance: float | None
    median_days_to_completion: float | None
    overdue: int
    reasons: dict[Reason, int]
    reason_labels: dict[Reason, str] = Field(
        description="The Dutch label of each reason in `reasons`"
    )


class ReferralPeriod(ApiModel):
    start: date
    end: date


class ReferralFigures(ApiModel):
    year: int
    period: ReferralPeriod
    rooms: list[str]
    items: list[PartnerFigures]
