"""Closed-loop referrals: who may see and move what, overdue, the outbox."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import Table, and_, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import Event, record, record_many
from api.base import table, utcnow
from api.caller import Principal
from api.consents import service as consents
from api.errors import Conflict, Forbidden, InvalidInput, NotFound
from api.referrals.models import Referral, ReferralEvent
from api.referrals.schemas import ReferralCreate, Transition
from api.residents import service as residents
from api.residents.models import Resident
from api.rooms import service as rooms
from api.scoping import readable_referrals, require_room, side_of
from api.webhooks import outbox

_ref: Table = table(Referral)
_event: Table = table(ReferralEvent)
_resident: Table = table(Resident)

# (from, to) -> who may make the move
MOVES = {
    ("sent", "accepted"): "receiver",
    ("sent", "declined"): "receiver",
    ("sent", "withdrawn"): "sender",
    ("accepted", "completed"): "receiver",
    ("accepted", "no_show"): "receiver",
    ("accepted", "withdrawn"): "sender",
}
NEEDS_REASON = {"declined", "no_show", "withdrawn"}
OPEN = ("sent", "accepted")
CLOSED = ("declined", "withdrawn", "completed", "no_show")


async def present(
    conn: AsyncConnection, principal: Principal, rows: list[Any], overdue_days: int
) -> list[dict[str, Any]]:
    """Each side sees what it needs: never the other side's notes, the identity only to the
    room or, with active consent, to the partner."""
    if not rows:
        return []
    ref = await rooms.reference(conn, partner_ids={r.partner_id for r in rows})
    codes = ref.partner_codes
    side = side_of(principal)
    history: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for e in await conn.execute(
        select(_event).where(_event.c.referral_id.in_([r.id for r in rows])).order_by(_event.c.at)
    ):
        history[e.referral_id].append(
            {
                "status": e.status,
                "at": e.at,
                "by": e.side,
                "reason": e.reason,
                "note": e.note if e.side == side else None,
            }
        )
    wanted = {(r.resident_id, r.partner_id) for r in rows if r.resident_id is not None}
    allowed = wanted if side == "room" else await consents.consented(conn, wanted)
    people = {}
    if allowed:
        for p in await conn.execute(
            select(
                _resident.c.id, _resident.c.name, _resident.c.contact, _resident.c.birth_year
            ).where(_resident.c.id.in_([a for a, _ in allowed]), _resident.c.erased_at.is_(None))
        ):
            people[p.id] = {"name": p.name, "contact": p.contact, "birth_year": p.birth_year}
    late = utcnow() - timedelta(days=overdue_days)
    out = []
    for r in rows:
        shows_person = (r.resident_id, r.partner_id) in allowed
        out.append(
            {
                "id": r.id,
                "room": ref.room_slugs[r.room_id],
                "partner": codes[r.partner_id],
                "direction": r.direction,
                "resident_id": r.resident_id if side == "room" else None,
                "identity": people.get(r.resident_id) if shows_person else None,
                "contact": r.contact,
                "reason": r.reason,
                "status": r.status,
                "outcome_reason": r.outcome_reason,
                "note": r.room_note if side == "room" else r.partner_note,
                "overdue": r.status in OPEN and r.status_changed_at < late,
                "created_at": r.created_at,
                "status_changed_at": r.status_changed_at,
                "history": history[r.id],
            }
        )
    return out


async def create(
    conn: AsyncConnection, principal: Principal, body: ReferralCreate, overdue_days: int
) -> dict[str, Any]:
    """A referral, sent: by a room's staff (outgoing) or by a partner (incoming)."""
    ref = await rooms.reference(conn, room=body.room)
    room = ref.rooms.get(body.room)
    if room is None:
        raise InvalidInput([("room", f"unknown room '{body.room}'")])
    now = utcnow()
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "room_id": room.id,
        "reason": body.reason,
        "status": "sent",
        "created_by": principal.id,
        "created_at": now,
        "status_changed_at": now,
    }
    if principal.role == "partner":
        row.update(_incoming(principal, body))
    else:
        require_room(principal, room, body.room)
        row.update(await _outgoing(conn, principal, body))
    await conn.execute(insert(_ref).values(row))
    await conn.execute(
        insert(_event).values(
            id=uuid.uuid4(),
            referral_id=row["id"],
            status="sent",
            side=side_of(principal),
            actor_id=principal.id,
            at=now,
            note=body.note,
        )
    )
    await record(
        conn,
        actor=principal,
        action="referral.create",
        object_type="referral",
        object_id=row["id"],
        resident_id=row.get("resident_id"),
    )
    payload = _event_payload(row["id"], body.room, row["direction"], "sent", now)
    await outbox.enqueue(conn, row["partner_id"], "referral.created", payload)
    return await get(conn, principal, row["id"], overdue_days, audit=False)


def _incoming(principal: Principal, body: ReferralCreate) -> dict[str, Any]:
    """A partner's referral in: by reason and contact, to no one but itself."""
    if body.resident_id is not None or body.partner not in (None, principal.partner_code):
        raise InvalidInput([("residentId", "a partner refers by reason and contact")])
    return {
        "direction": "incoming",
        "partner_id": principal.partner_id,
        "contact": body.contact,
        "partner_note": body.note,
    }


async def _outgoing(
    conn: AsyncConnection, principal: Principal, body: ReferralCreate
) -> dict[str, Any]:
    """A room's referral out: a resident it may see, who may be helped, to a known partner."""
    partner_id = await rooms.partner_id(conn, body.partner) if body.partner else None
    if partner_id is None:
        raise InvalidInput([("partner", "give the code of the partner referred to")])
    if body.resident_id is None:
        raise InvalidInput([("residentId", "give the resident who is referred")])
    await residents.get_resident(conn, principal, body.resident_id, audit=False)
    await residents.resident_for_help(conn, body.resident_id)
    return {
        "direction": "outgoing",
        "partner_id": partner_id,
        "resident_id": body.resident_id,
        "room_note": body.note,
    }


class _ReferralState(TypedDict):
    id: str
    room: str
    direction: str
    status: str
    at: str


class ReferralEventPayload(TypedDict):
    """What a partner's webhook is told: ids and states only (who the person is, the partner
    asks for; consent is checked then)."""

    referral: _ReferralState


def _event_payload(
    referral_id: uuid.UUID, room: str, direction: str, status: str, at: datetime
) -> ReferralEventPayload:
    return {
        "referral": {
            "id": str(referral_id),
            "room": room,
            "direction": direction,
            "status": status,
            "at": at.isoformat(),
        }
    }


async def get(
    conn: AsyncConnection,
    principal: Principal,
    referral_id: uuid.UUID,
    overdue_days: int,
    *,
    audit: bool = True,
) -> dict[str, Any]:
    row = (
        await conn.execute(readable_referrals(principal).where(_ref.c.id == referral_id))
    ).first()
    if row is None:
        raise NotFound("There is no such referral of yours.")
    if audit:
        await record(
            conn,
            actor=principal,
            action="referral.read",
            object_type="referral",
            object_id=row.id,
            resident_id=row.resident_id,
        )
    return (await present(conn, principal, [row], overdue_days))[0]


async def list_referrals(
    conn: AsyncConnection,
    principal: Principal,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    status: str | None,
    direction: str | None,
    room: str | None,
    partner: str | None,
    overdue: bool | None,
    overdue_days: int,
) -> list[dict[str, Any]]:
    query = readable_referrals(principal)
    if status:
        query = query.where(_ref.c.status == status)
    if direction:
        query = query.where(_ref.c.direction == direction)
    if room:
        found = await rooms.room_ref(conn, room)
        query = query.where(_ref.c.room_id == (found.id if found else -1))
    if partner:
        found_partner = await rooms.partner_id(conn, partner)
        query = query.where(_ref.c.partner_id == (-1 if found_partner is None else found_partner))
    if overdue is not None:
        late = and_(
            _ref.c.status.in_(OPEN),
            _ref.c.status_changed_at < utcnow() - timedelta(days=overdue_days),
        )
        query = query.where(late if overdue else ~late)
    if after is not None:
        query = query.where(tuple_(_ref.c.created_at, _ref.c.id) < tuple_(*after))
    query = query.order_by(_ref.c.created_at.desc(), _ref.c.id.desc()).limit(limit + 1)
    rows = list(await conn.execute(query))
    # who looked at whose referral: one event per referral shown, in one statement
    await record_many(
        conn,
        [
            Event(
                actor=principal,
                action="referral.list",
                object_type="referral",
                object_id=r.id,
                resident_id=r.resident_id,
            )
            for r in rows[:limit]
        ],
    )
    return await present(conn, principal, rows, overdue_days)


async def move(
    conn: AsyncConnection,
    principal: Principal,
    referral_id: uuid.UUID,
    body: Transition,
    overdue_days: int,
) -> dict[str, Any]:
    """One step in the lifecycle, by the side that may take it; the partner is told."""
    row = (
        await conn.execute(readable_referrals(principal).where(_ref.c.id == referral_id))
    ).first()
    if row is None:
        raise NotFound("There is no such referral of yours.")
    # a restricted resident's referral stays as it is (GDPR art. 18)
    await residents.refuse_if_restricted(conn, row.resident_id)
    to = body.to
    side = side_of(principal)
    _check_move(row.status, to, row.direction, side, body.reason)
    now = utcnow()
    values: dict[str, Any] = {"status": to, "status_changed_at": now, "outcome_reason": body.reason}
    if to == "accepted":
        values["accepted_at"] = now
    if to in CLOSED:
        values["closed_at"] = now
    if body.note:
        values["room_note" if side == "room" else "partner_note"] = body.note
    moved = await conn.execute(
        update(_ref).where(_ref.c.id == referral_id, _ref.c.status == row.status).values(values)
    )
    if moved.rowcount != 1:
        raise Conflict("The referral was moved by someone else just now; read it again.")
    await conn.execute(
        insert(_event).values(
            id=uuid.uuid4(),
            referral_id=referral_id,
            status=to,
            side=side,
            actor_id=principal.id,
            reason=body.reason,
            note=body.note,
            at=now,
        )
    )
    await record(
        conn,
        actor=principal,
        action=f"referral.{to}",
        object_type="referral",
        object_id=referral_id,
        resident_id=row.resident_id,
    )
    ref = await rooms.reference(conn)
    payload = _event_payload(referral_id, ref.room_slugs[row.room_id], row.direction, to, now)
    await outbox.enqueue(conn, row.partner_id, "referral.status_changed", payload)
    return await get(conn, principal, referral_id, overdue_days, audit=False)


def _check_move(status: str, to: str, direction: str, side: str, reason: str | None) -> None:
    """Whether the lifecycle allows the move and this side may make it."""
    who = MOVES.get((status, to))
    if who is None:
        raise Conflict(f"A referral that is {status} cannot become {to}.")
    sender = "room" if direction == "outgoing" else "partner"
    if (who == "sender") != (side == sender):
        raise Forbidden(f"Only the {who} of a referral may make it {to}.")
    if to in NEEDS_REASON and not reason:
        raise InvalidInput([("reason", f"say why the referral is {to}")])
