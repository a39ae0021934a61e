"""Registering help: the desk's hot path and corrections by coordinators (imports:
imports.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import structlog
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    bindparam,
    cast,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.service import Event, audit_event, record, record_many
from api.base import table, utcnow
from api.calendar import today
from api.caller import Principal
from api.db import Prepared, keeping
from api.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from api.registrations.models import Registration
from api.registrations.schemas import RegistrationCreate, RegistrationUpdate
from api.residents import service as residents
from api.residents.lookup import CodeLimits
from api.rooms import service as rooms
from api.scoping import (
    newest_readable_registrations,
    readable_registrations,
    registration_room_ids,
    require_room,
)

_reg: Table = table(Registration)
_COLUMNS = (
    _reg.c.id,
    _reg.c.room_id,
    _reg.c.activity_id,
    _reg.c.occurred_on,
    _reg.c.resident_id,
    _reg.c.headcount,
    _reg.c.note,
    _reg.c.registered_by,
    _reg.c.created_at,
    _reg.c.updated_at,
    _reg.c.version,
    _reg.c.voided_at,
    _reg.c.void_reason,
)


def check_date(occurred_on: date, room: rooms.RoomRef, name: str = "occurredOn") -> None:
    if occurred_on > today():
        raise InvalidInput([(name, "is in the future")])
    if occurred_on < room.opened_on:
        raise InvalidInput([(name, f"is before {room.slug} opened ({room.opened_on})")])


# The fields of RegistrationPublic in its order, by name and by wire name (camelCase).
PUBLIC_FIELDS = (
    "id",
    "room",
    "activity",
    "occurred_on",
    "resident_id",
    "headcount",
    "note",
    "registered_by",
    "created_at",
    "updated_at",
    "version",
    "voided",
    "voided_at",
    "void_reason",
)
WIRE_FIELDS = (
    "id",
    "room",
    "activity",
    "occurredOn",
    "residentId",
    "headcount",
    "note",
    "registeredBy",
    "createdAt",
    "updatedAt",
    "version",
    "voided",
    "voidedAt",
    "voidReason",
)


def _values(row: Sequence[Any], ref: rooms.Reference) -> tuple[Any, ...]:
    """A row of _COLUMNS as the values of PUBLIC_FIELDS."""
    # occurred_on, resident_id, headcount, note, registered_by, created_at, updated_at, version
    id_, room_id, activity_id, *same, voided_at, void_reason = row
    return (
        id_,
        ref.room_slugs[room_id],
        ref.activity_codes[activity_id],
        *same,
        voided_at is not None,
        voided_at,
        void_reason,
    )


def _public(row: dict[str, Any], ref: rooms.Reference) -> dict[str, Any]:
    """Exactly the fields of RegistrationPublic, by name."""
    return dict(zip(PUBLIC_FIELDS, _values([row[c.name] for c in _COLUMNS], ref), strict=True))


def wire(row: Sequence[Any], ref: rooms.Reference) -> dict[str, Any]:
    """A row of _COLUMNS exactly as RegistrationPublic sends it (camelCase names), for
    routes that send it without validating it again (tests check it against the model)."""
    return dict(zip(WIRE_FIELDS, _values(row, ref), strict=True))


# -- the desk's statements, built and compiled once ---------------------------------------

_INSERT = Prepared(insert(_reg).values({c.name: bindparam(c.name, type_=c.type) for c in _COLUMNS}))


def _audited_insert() -> Any:
    """The registration and its audit event in one statement (PostgreSQL only):
    WITH r AS (INSERT INTO registration ... RETURNING id) INSERT INTO audit_event SELECT ..."""
    created = (
        insert(_reg)
        .values({c.name: bindparam(c.name, type_=c.type) for c in _COLUMNS})
        .returning(_reg.c.id)
        .cte("created")
    )
    event = [c for c in audit_event.c if c.name != "object_id"]
    return insert(audit_event).from_select(
        [*(c.name for c in event), "object_id"],
        select(
            *(bindparam(f"audit_{c.name}", type_=c.type) for c in event),
            cast(created.c.id, audit_event.c.object_id.type),
        ).select_from(created),
    )


# on SQLite the same is two statements: _INSERT and the audit trail's own
_INSERT_AUDITED = Prepared(_audited_insert(), json=("audit_details",))


class _ListFilters(NamedTuple):
    """Which of the list's optional filters a request uses: each set has its statement."""

    room: bool
    activity: bool
    since: bool
    until: bool
    resident: bool
    voided: bool
    after: bool


def _list_statement(filters: _ListFilters, *, postgresql: bool) -> Select[Any]:
    c = _reg.c
    where: list[ColumnElement[bool]] = []
    if filters.room:
        where.append(c.room_id == bindparam("room_id"))
    if filters.activity:
        where.append(c.activity_id == bindparam("activity_id"))
    if filters.since:
        where.append(c.occurred_on >= bindparam("since"))
    if filters.until:
        where.append(c.occurred_on <= bindparam("until"))
    if filters.resident:
        where.append(c.resident_id == bindparam("resident_id"))
    if not filters.voided:
        where.append(c.voided_at.is_(None))
    if filters.after:
        where.append(
            tuple_(c.occurred_on, c.id)
            < tuple_(
                bindparam("after_on", type_=c.occurred_on.type),
                bindparam("after_id", type_=c.id.type),
            )
        )
    return newest_readable_registrations(_COLUMNS, where, postgresql=postgresql)


_LISTS: dict[_ListFilters, Prepared] = {}


def _list_query(filters: _ListFilters) -> Prepared:
    found = _LISTS.get(filters)
    if found is None:
        found = _LISTS[filters] = Prepared(
            _list_statement(filters, postgresql=False),
            _list_statement(filters, postgresql=True),
            reads=True,
        )
    return found


async def create_registration(
    conn: AsyncConnection, principal: Principal, body: RegistrationCreate, limits: CodeLimits
) -> dict[str, Any]:
    """The registration as RegistrationPublic sends it (camelCase names)."""
    ref = await rooms.reference(conn, room=body.room, activity=body.activity)
    room = require_room(principal, ref.rooms.get(body.room), body.room)
    activity_id = ref.activities.get(body.activity)
    if activity_id is None:
        raise InvalidInput([("activity", f"unknown activity '{body.activity}'")])
    check_date(body.occurred_on, room)
    resident_id: uuid.UUID | None = None
    if body.resident is not None:
        resident_id = await residents.insert_resident(conn, principal, room.id, body.resident)
    elif body.resident_id is not None:
        resident_id = await residents.resident_for_help(conn, body.resident_id)
        await residents.link_room(conn, resident_id, room.id, body.occurred_on)
    elif body.resident_code is not None:
        async with keeping(conn) as writes:
            resident_id = await residents.resident_by_code(
                conn, principal, limits, body.resident_code, writes
            )
        await residents.link_room(conn, resident_id, room.id, body.occurred_on)
    now = utcnow()
    row = {
        "id": uuid.uuid4(),
        "room_id": room.id,
        "activity_id": activity_id,
        "occurred_on": body.occurred_on,
        "resident_id": resident_id,
        "headcount": body.headcount or 1,
        "note": body.note,
        "registered_by": principal.id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "voided_at": None,
        "void_reason": None,
    }
    if resident_id is None:
        # a group: the only write, and the last statement of a request without a key
        await _INSERT.run(conn, row, alone=True)
    elif conn.dialect.name == "postgresql":
        await _INSERT_AUDITED.run(conn, {**row, **_create_event(principal, resident_id, now)})
    else:
        await _INSERT.run(conn, row)
        await record(
            conn,
            actor=principal,
            action="registration.create",
            object_type="registration",
            object_id=row["id"],
            resident_id=resident_id,
        )
    return wire(tuple(row.values()), ref)


def _create_event(principal: Principal, resident_id: uuid.UUID, at: datetime) -> dict[str, Any]:
    """The parameters of _INSERT_AUDITED's audit event (its object id is the registration's):
    the same row as api.audit.service.record(action="registration.create", ...) writes."""
    return {
        "audit_id": uuid.uuid4(),
        "audit_at": at,
        "audit_actor_kind": principal.kind,
        "audit_actor_id": principal.id,
        "audit_actor_role": principal.role,
        "audit_action": "registration.create",
        "audit_object_type": "registration",
        "audit_resident_id": resident_id,
        "audit_request_id": structlog.contextvars.get_contextvars().get("request_id"),
        "audit_address": None,
        "audit_details": {},
    }


async def get_registration(
    conn: AsyncConnection, principal: Principal, registration_id: uuid.UUID, *, audit: bool = True
) -> dict[str, Any]:
    row = (
        await conn.execute(
            readable_registrations(principal, *_COLUMNS).where(_reg.c.id == registration_id)
        )
    ).first()
    if row is None:
        raise NotFound("There is no such registration at your rooms.")
    if audit and row.resident_id is not None:
        await record(
            conn,
            actor=principal,
            action="registration.read",
            object_type="registration",
            object_id=row.id,
            resident_id=row.resident_id,
        )
    return _public(dict(row._mapping), await rooms.reference(conn, room_id=row.room_id))


async def list_registrations(
    conn: AsyncConnection,
    principal: Principal,
    *,
    limit: int,
    after: tuple[date, uuid.UUID] | None,
    room: str | None = None,
    activity: str | None = None,
    since: date | None = None,
    until: date | None = None,
    resident_id: uuid.UUID | None = None,
    include_voided: bool = False,
) -> list[dict[str, Any]]:
    """Up to limit + 1 registrations at the caller's rooms, newest first, as
    RegistrationPublic sends them (camelCase names).

    Long because each optional filter picks a prepared statement and binds its parameter,
    side by side here, on the desk's hot path."""
    ref = await rooms.reference(conn, room=room, activity=activity)
    query = _list_query(
        _ListFilters(
            room is not None,
            activity is not None,
            since is not None,
            until is not None,
            resident_id is not None,
            include_voided,
            after is not None,
        )
    )
    params: dict[str, Any] = {
        "room_ids": registration_room_ids(principal),
        "limit": limit + 1,
    }
    if room is not None:
        params["room_id"] = ref.rooms[room].id if room in ref.rooms else -1
    if activity is not None:
        params["activity_id"] = ref.activities.get(activity, -1)
    if since is not None:
        params["since"] = since
    if until is not None:
        params["until"] = until
    if resident_id is not None:
        params["resident_id"] = resident_id
    if after is not None:
        params["after_on"], params["after_id"] = after
    rows = await query.rows(conn, params)
    shown = {r[4] for r in rows[:limit] if r[4] is not None}
    # who looked at whose help: one event per resident shown, sent together
    await record_many(
        conn,
        [
            Event(
                actor=principal,
                action="registration.list",
                object_type="resident",
                object_id=r,
                resident_id=r,
            )
            for r in shown
        ],
    )
    return [wire(r, ref) for r in rows]


def parse_etag(if_match: str | None) -> int:
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag you read, so no edit is lost.")
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed("If-Match does not match this registration's ETag.")
    return int(value)


async def correct_registration(
    conn: AsyncConnection,
    principal: Principal,
    registration_id: uuid.UUID,
    if_match: str | None,
    body: RegistrationUpdate,
) -> dict[str, Any]:
    """A coordinator's correction (or voiding) of the fields the body names, if the caller
    read the current version."""
    # the correction is on the record as such: no read event besides
    current = await get_registration(conn, principal, registration_id, audit=False)
    expected = parse_etag(if_match)
    if current["version"] != expected:
        raise PreconditionFailed("The registration was changed since you read it; read it again.")
    if current["voided"]:
        raise Conflict("A voided registration cannot be changed.")
    await residents.refuse_if_restricted(conn, current["resident_id"])
    values: dict[str, Any] = {}
    ref = await rooms.reference(conn, activity=body.activity)
    if body.activity is not None:
        if body.activity not in ref.activities:
            raise InvalidInput([("activity", f"unknown activity '{body.activity}'")])
        values["activity_id"] = ref.activities[body.activity]
    if body.occurred_on is not None:
        check_date(body.occurred_on, ref.rooms[current["room"]])
        values["occurred_on"] = body.occurred_on
    if body.headcount is not None:
        if current["resident_id"] is not None and body.headcount != 1:
            raise InvalidInput([("headcount", "a registration for one resident has headcount 1")])
        values["headcount"] = body.headcount
    if "note" in body.model_fields_set:
        values["note"] = body.note
    now = utcnow()
    if body.voided:
        values.update(voided_at=now, voided_by=principal.id, void_reason=body.reason)
    values.update(updated_at=now, version=expected + 1)
    result = await conn.execute(
        update(_reg)
        .where(_reg.c.id == registration_id, _reg.c.version == expected)
        .values(**values)
    )
    if result.rowcount != 1:
        raise PreconditionFailed("The registration was changed since you read it; read it again.")
    await record(
        conn,
        actor=principal,
        action="registration.void" if body.voided else "registration.correct",
        object_type="registration",
        object_id=registration_id,
        resident_id=current["resident_id"],
        details={"fields": sorted(values)},
    )
    public = {"activity": body.activity} if "activity_id" in values else {}
    return {**current, **values, **public, "voided": "voided_at" in values}
