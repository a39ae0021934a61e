"""The cached reference (api/rooms/service.py): rooms, activities and partners by their
published codes, reloaded when one it does not know is asked for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from api.base import table
from api.rooms import service as rooms
from api.rooms.models import Partner

if TYPE_CHECKING:  # imported at run time, pytest would try to collect the class
    from tests.databases import TestDatabase


@pytest.fixture
def forget_references() -> Iterator[None]:
    # the cache is per process; a partner this test adds is gone after it (db.restore)
    yield
    rooms._references.clear()


async def test_partner_codes_and_ids_come_from_the_reference(app: FastAPI) -> None:
    async with app.state.engine.connect() as conn:
        ref = await rooms.reference(conn)
        madi = await rooms.partner_id(conn, "madi")
        assert madi is not None and ref.partners["madi"] == madi
        assert (await rooms.partner_codes(conn, {madi}))[madi] == "madi"
        assert await rooms.partner_id(conn, "no-such-partner") is None


async def test_a_partner_added_after_the_reference_was_loaded_is_found(
    app: FastAPI, db: TestDatabase, forget_references: None
) -> None:
    async with app.state.engine.connect() as conn:
        assert "buurtzorg-zuidoost" not in (await rooms.reference(conn)).partners
    with db.engine.begin() as sync:
        added = sync.execute(
            sa.insert(table(Partner))
            .values(code="buurtzorg-zuidoost", name="Buurtzorg Zuidoost", kind="care")
            .returning(table(Partner).c.id)
        ).scalar_one()
    async with app.state.engine.connect() as conn:
        assert await rooms.partner_id(conn, "buurtzorg-zuidoost") == added
        assert (await rooms.partner_codes(conn, [added]))[added] == "buurtzorg-zuidoost"


async def test_every_process_reads_the_codes_in_the_same_order(
    app: FastAPI, db: TestDatabase, forget_references: None
) -> None:
    """The order of activities is the order of the district's table columns, and so decides
    which of two equal counts the disclosure control hides. A process that loaded the
    reference after an edit of an activity (PostgreSQL then keeps the row elsewhere) must read
    them in the same order as one that loaded it before: else two workers could hide
    different cells of the same period, and their two answers together show both."""
    from api.rooms.models import Activity, Room

    async with app.state.engine.connect() as conn:
        before = await rooms.reference(conn)
    with db.engine.begin() as sync:
        for model, column in ((Activity, "label_en"), (Room, "name"), (Partner, "name")):
            t = table(model)
            first = sync.execute(sa.select(sa.func.min(t.c.id))).scalar_one()
            sync.execute(sa.update(t).where(t.c.id == first).values({column: "Edited"}))
    rooms._references.clear()
    async with app.state.engine.connect() as conn:
        after = await rooms.reference(conn)
    assert list(after.activities) == list(before.activities)
    assert list(after.rooms) == list(before.rooms)
    assert list(after.partners) == list(before.partners)
    assert list(after.activities.values()) == sorted(after.activities.values())
