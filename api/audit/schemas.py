"""The audit trail over the wire (admins)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from api.schemas import ApiModel, Page


class AuditEventPublic(ApiModel):
    id: UUID
    at: datetime
    actor_kind: str
    actor_id: UUID | None
    actor_role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    resident_id: UUID | None
    request_id: str | None
    details: dict[str, Any]


class AuditEventPage(Page[AuditEventPublic]):
    pass
