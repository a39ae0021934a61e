"""The residents' rights: access (art. 15), erasure (art. 17), restriction (art. 18), and
retention: what is kept no longer than needed.

The coordinators of the resident's home room act for the resident (api/scoping.py): another
room that serves the resident gets a 403, a room that does not a 404.

Erasure keeps the figures: the resident's row stays as a bare id, so its registrations
still count (distinct counts too), but every personal field, the code, the notes on its
registrations, stored answers that named it, and the rooms that served it are gone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, cast, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import String

from api.accounts.models import AuthSession, PartnerClient, UserAccount
from api.audit.models import AuditEvent
from api.audit.service import record
from api.auth.models import LoginFailure
from api.base import table, utcnow
from api.caller import Principal
from api.idempotency.models import IdempotencyRecord
from api.outcomes import service as outcomes
from api.referrals.models import Consent, Referral, ReferralEvent
from api.registrations.models import Registration
from api.residents import service as residents
from api.residents.models import Resident, ResidentRoom
from api.rooms import service as rooms
from api.scoping import resident_for_rights
from api.webhooks.models import OutboxEvent

_resident: Table = table(Resident)
_resident_room: Table = table(ResidentRoom)
_reg: Table = table(Registration)
_event: Table = table(AuditEvent)
_user: Table = table(UserAccount)
_client: Table = table(PartnerClient)
_idempotency: Table = table(IdempotencyRecord)
_session: Table = table(AuthSession)
_failure: Table = table(LoginFailure)
_consent: Table = table(Consent)
_referral: Table = table(Referral)
_referral_event: Table = table(ReferralEvent)
_outbox: Table = table(OutboxEvent)


async def export(conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID) -> Any:
    """Everything kept about one person, and who looked at it."""
    await resident_for_rights(conn, principal, resident_id)
    person = await residents.get_resident(conn, principal, resident_id, audit=False)
    ref = await rooms.reference(conn)
    registrations = [
        {
            "id": r.id,
            "room": ref.room_slugs[r.room_id],
            "activity": ref.activity_codes[r.activity_id],
            "occurred_on": r.occurred_on,
            "note": r.note,
            "created_at": r.created_at,
            "voided": r.voided_at is not None,
            "void_reason": r.void_reason,
        }
        for r in await conn.execute(
            select(_reg).where(_reg.c.resident_id == resident_id).order_by(_reg.c.occurred_on)
        )
    ]
    codes = ref.partner_codes
    referrals = [
        {
            "id": r.id,
            "room": ref.room_slugs[r.room_id],
            "partner": codes[r.partner_id],
            "direction": r.direction,
            "reason": r.reason,
            "status": r.status,
            "created_at": r.created_at,
        }
        for r in await conn.execute(
            select(_referral)
            .where(_referral.c.resident_id == resident_id)
            .order_by(_referral.c.created_at)
        )
    ]
    consents = [
        {
            "partner": codes[c.partner_id],
            "purpose": c.purpose,
            "text_version": c.text_version,
            "recorded_at": c.recorded_at,
            "withdrawn_at": c.withdrawn_at,
        }
        for c in await conn.execute(
            select(_consent)
            .where(_consent.c.resident_id == resident_id)
            .order_by(_consent.c.recorded_at)
        )
    ]
    await record(
        conn,
        actor=principal,
        action="resident.export",
        object_type="resident",
        object_id=resident_id,
        resident_id=resident_id,
    )
    who = func.coalesce(_user.c.username, _client.c.client_id, _event.c.actor_kind)
    access_log = [
        {"at": e.at, "who": e.who, "role": e.actor_role, "action": e.action}
        for e in await conn.execute(
            select(_event.c.at, who.label("who"), _event.c.actor_role, _event.c.action)
            .outerjoin(_user, _user.c.id == _event.c.actor_id)
            .outerjoin(_client, _client.c.id == _event.c.actor_id)
            .where(_event.c.resident_id == resident_id)
            .order_by(_event.c.at)
        )
    ]
    return {
        "resident": person,
        "registrations": registrations,
        "referrals": referrals,
        "consents": consents,
        **await outcomes.export_outcomes(conn, resident_id),
        "access_log": access_log,
        "exported_at": utcnow(),
    }


async def erase_resident(
    conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID, *, check: bool = True
) -> None:
    if check:
        await resident_for_rights(conn, principal, resident_id)
    now = utcnow()
    await conn.execute(
        update(_resident)
        .where(_resident.c.id == resident_id)
        .values(
            code=None,
            name=None,
            contact=None,
            birth_year=None,
            age_band=None,
            postcode_area=None,
            languages=[],
            restricted_at=None,
            erased_at=now,
            updated_at=now,
        )
    )
    # free text about the person goes with the person; the counts stay
    await conn.execute(update(_reg).where(_reg.c.resident_id == resident_id).values(note=None))
    await conn.execute(
        update(_reg)
        .where(_reg.c.resident_id == resident_id, _reg.c.void_reason.is_not(None))
        .values(void_reason="(erased)")
    )
    await conn.execute(delete(_resident_room).where(_resident_room.c.resident_id == resident_id))
    await outcomes.erase_outcomes(conn, resident_id)  # measurements are personal
    # what partners could learn: consents go; referral texts about the person are blanked,
    # the referrals themselves stay for the referral figures
    await conn.execute(delete(_consent).where(_consent.c.resident_id == resident_id))
    referral_ids = select(_referral.c.id).where(_referral.c.resident_id == resident_id)
    await conn.execute(
        update(_referral)
        .where(_referral.c.resident_id == resident_id)
        .values(reason="(erased)", contact=None, room_note=None, partner_note=None)
    )
    await conn.execute(
        update(_referral_event)
        .where(_referral_event.c.referral_id.in_(referral_ids))
        .values(note=None)
    )
    # stored first answers of POSTs that showed this person
    await conn.execute(
        delete(_idempotency).where(cast(_idempotency.c.body, String).contains(str(resident_id)))
    )
    await record(
        conn,
        actor=principal,
        action="resident.erase",
        object_type="resident",
        object_id=resident_id,
        resident_id=resident_id,
    )


async def restrict(
    conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID, restricted: bool
) -> dict[str, Any]:
    await resident_for_rights(conn, principal, resident_id)
    await conn.execute(
        update(_resident)
        .where(_resident.c.id == resident_id)
        .values(restricted_at=utcnow() if restricted else None)
    )
    await record(
        conn,
        actor=principal,
        action="resident.restrict" if restricted else "resident.unrestrict",
        object_type="resident",
        object_id=resident_id,
        resident_id=resident_id,
    )
    return {"restricted": restricted}


async def retention(
    conn: AsyncConnection,
    principal: Principal,
    *,
    months: int,
    dry_run: bool,
    login_window_seconds: int,
    code_window_seconds: int,
) -> dict[str, int]:
    """Anonymise residents with no contact for `months`; purge what has expired."""
    now = utcnow()
    cutoff = date.today() - timedelta(days=round(months * 30.44))
    last_contact = (
        select(_reg.c.resident_id, func.max(_reg.c.occurred_on).label("last"))
        .group_by(_reg.c.resident_id)
        .subquery()
    )
    stale = [
        r.id
        for r in await conn.execute(
            select(_resident.c.id, _resident.c.created_at, last_contact.c.last)
            .outerjoin(last_contact, last_contact.c.resident_id == _resident.c.id)
            .where(_resident.c.erased_at.is_(None))
        )
        if (r.last or _as_date(r.created_at)) < cutoff
    ]
    purges = {
        "idempotency records": delete(_idempotency).where(_idempotency.c.expires_at < now),
        "ended sign-ins": delete(_session).where(
            (_session.c.expires_at < now) | (_session.c.revoked_at < now - timedelta(days=1))
        ),
        "delivered webhook events older than 30 days": delete(_outbox).where(
            _outbox.c.delivered_at < now - timedelta(days=30)
        ),
        "failed sign-ins": delete(_failure).where(
            _failure.c.at < now - timedelta(seconds=login_window_seconds),
            # a code lookup's miss counts for longer (residents/lookup.py)
            ~_failure.c.username.startswith("code:")
            | (_failure.c.at < now - timedelta(seconds=code_window_seconds)),
        ),
    }
    counts = {"residents anonymised": len(stale)}
    for label, statement in purges.items():
        if dry_run:
            count_query = (
                select(func.count())
                .select_from(statement.table)
                .where(
                    statement.whereclause  # type: ignore[arg-type]
                )
            )
            counts[label] = int((await conn.execute(count_query)).scalar_one())
        else:
            counts[label] = (await conn.execute(statement)).rowcount
    if not dry_run:
        for resident_id in stale:
            await erase_resident(conn, principal, resident_id, check=False)
        await record(conn, actor=principal, action="retention.run", details=counts)
    return counts


def _as_date(value: datetime) -> date:
    return value.date()
