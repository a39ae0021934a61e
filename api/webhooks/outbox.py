"""Writing events to the outbox, in the transaction of the change they report."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import Table, exists, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.base import table, utcnow
from api.webhooks.models import OutboxEvent, Webhook

_outbox: Table = table(OutboxEvent)
_webhook: Table = table(Webhook)


async def enqueue(
    conn: AsyncConnection, partner_id: int, type_: str, payload: Mapping[str, object]
) -> None:
    """Queue an event for a partner that has a webhook; one statement, nothing otherwise."""
    event_id, now = uuid.uuid4(), utcnow()
    body = {"id": str(event_id), "type": type_, "createdAt": now.isoformat(), **payload}
    await conn.execute(
        insert(_outbox).from_select(
            ["id", "partner_id", "type", "payload", "created_at", "attempts", "next_attempt_at"],
            select(
                literal(event_id, _outbox.c.id.type),
                literal(partner_id),
                literal(type_),
                literal(body, _outbox.c.payload.type),
                literal(now, _outbox.c.created_at.type),
                literal(0),
                literal(now, _outbox.c.next_attempt_at.type),
            ).where(exists().where(_webhook.c.partner_id == partner_id)),
        )
    )
