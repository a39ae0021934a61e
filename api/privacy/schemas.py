"""The residents' rights over the wire."""

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from api.residents.schemas import ResidentPublic
from api.schemas import ApiModel, InputModel


class ExportedRegistration(ApiModel):
    id: UUID
    room: str
    activity: str
    occurred_on: date
    note: str | None
    created_at: datetime
    voided: bool
    void_reason: str | None


class ExportedReferral(ApiModel):
    id: UUID
    room: str
    partner: str
    direction: str
    reason: str
    status: str
    created_at: datetime


class ExportedConsent(ApiModel):
    partner: str
    purpose: str
    text_version: str
    recorded_at: datetime
    withdrawn_at: datetime | None


class ExportedAssessment(ApiModel):
    id: UUID
    room: str = Field(description="The room that took the measurement")
    instrument: str
    assessed_on: date
    rung: int | None
    scores: dict[str, int] | None
    created_at: datetime


class ExportedVolunteering(ApiModel):
    id: UUID
    room: str
    since: date
    until: date | None
    created_at: datetime


class AccessEvent(ApiModel):
    at: datetime
    who: str = Field(description="The account (username or partner client) that acted")
    role: str | None
    action: str


class ResidentExport(ApiModel):
    resident: ResidentPublic
    registrations: list[ExportedRegistration] = Field(
        description="All help registered for this person, at every room, voided included"
    )
    referrals: list[ExportedReferral]
    consents: list[ExportedConsent]
    assessments: list[ExportedAssessment]
    volunteering: list[ExportedVolunteering]
    access_log: list[AccessEvent] = Field(description="Who read or changed this person's data")
    exported_at: datetime


class Restriction(InputModel):
    restricted: bool


class RestrictionState(ApiModel):
    restricted: bool
