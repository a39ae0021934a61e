"""Every table, imported in one place so Alembic and the tests see all of them."""

from sqlmodel import SQLModel

from api.accounts.models import AuthSession, PartnerClient, UserAccount, UserRoom  # noqa: F401
from api.audit.models import AuditEvent  # noqa: F401
from api.auth.models import LoginFailure, RefreshToken  # noqa: F401
from api.budgets.models import (  # noqa: F401
    BudgetLine,
    StaffAllocation,
    SubsidyGrant,
    SubsidyGrantRoom,
)
from api.idempotency.models import IdempotencyRecord  # noqa: F401
from api.indicators.models import Presence, Target  # noqa: F401
from api.outcomes.models import Assessment, OutcomeTarget, Volunteering  # noqa: F401
from api.public.models import PartnerAssignment  # noqa: F401
from api.referrals.models import Consent, Referral, ReferralEvent  # noqa: F401
from api.registrations.models import Registration  # noqa: F401
from api.residents.models import Resident, ResidentRoom  # noqa: F401
from api.rooms.models import Activity, Partner, Room, RoomActivity  # noqa: F401
from api.webhooks.models import Delivery, OutboxEvent, Webhook  # noqa: F401

metadata = SQLModel.metadata
