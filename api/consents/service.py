"""A resident's consents to let a partner know who is referred: given, listed, withdrawn."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Table, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import record
from api.base import table, utcnow
from api.caller import Principal
from api.consents.models import Consent
from api.consents.schemas import ConsentCreate
from api.errors import InvalidInput, NotFound
from api.residents import service as residents
from api.rooms import service as rooms

_consent: Table = table(Consent)


async def consented(
    conn: AsyncConnection, pairs: set[tuple[uuid.UUID, int]]
) -> set[tuple[uuid.UUID, int]]:
    """The (resident, partner) pairs with a consent to refer in force."""
    if not pairs:
        return set()
    rows = await conn.execute(
        select(_consent.c.resident_id, _consent.c.partner_id).where(
            tuple_(_consent.c.resident_id, _consent.c.partner_id).in_(list(pairs)),
            _consent.c.purpose == "referral",
            _consent.c.withdrawn_at.is_(None),
        )
    )
    return {(r.resident_id, r.partner_id) for r in rows}


async def _consents_of(conn: AsyncConnection, resident_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = list(
        await conn.execute(
            select(_consent)
            .where(_consent.c.resident_id == resident_id)
            .order_by(_consent.c.recorded_at)
        )
    )
    codes = await rooms.partner_codes(conn, {r.partner_id for r in rows})
    return [{**r._mapping, "partner": codes[r.partner_id]} for r in rows]


async def list_consents(
    conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID
) -> list[dict[str, Any]]:
    await residents.get_resident(conn, principal, resident_id, audit=False)
    await record(
        conn,
        actor=principal,
        action="consent.read",
        object_type="resident",
        object_id=resident_id,
        resident_id=resident_id,
    )
    return await _consents_of(conn, resident_id)


async def give_consent(
    conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID, body: ConsentCreate
) -> dict[str, Any]:
    await residents.get_resident(conn, principal, resident_id, audit=False)
    await residents.refuse_if_restricted(conn, resident_id)
    partner_id = await rooms.partner_id(conn, body.partner)
    if partner_id is None:
        raise InvalidInput([("partner", f"unknown partner '{body.partner}'")])
    consent_id = uuid.uuid4()
    await conn.execute(
        insert(_consent).values(
            id=consent_id,
            resident_id=resident_id,
            partner_id=partner_id,
            purpose=body.purpose,
            text_version=body.text_version,
            recorded_by=principal.id,
            recorded_at=utcnow(),
        )
    )
    await record(
        conn,
        actor=principal,
        action="consent.give",
        object_type="consent",
        object_id=consent_id,
        resident_id=resident_id,
    )
    # the answer shows the consent just given: consent.give says so, it is not a read
    return next(c for c in await _consents_of(conn, resident_id) if c["id"] == consent_id)


async def withdraw_consent(
    conn: AsyncConnection, principal: Principal, resident_id: uuid.UUID, consent_id: uuid.UUID
) -> None:
    await residents.get_resident(conn, principal, resident_id, audit=False)
    done = await conn.execute(
        update(_consent)
        .where(
            _consent.c.id == consent_id,
            _consent.c.resident_id == resident_id,
            _consent.c.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=utcnow(), withdrawn_by=principal.id)
    )
    if done.rowcount != 1:
        raise NotFound("There is no such consent in force.")
    await record(
        conn,
        actor=principal,
        action="consent.withdraw",
        object_type="consent",
        object_id=consent_id,
        resident_id=resident_id,
    )
