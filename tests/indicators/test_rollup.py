"""The presence rollup equals the registrations after any sequence of the writes that move a
figure, through the service functions that make them: registration (of a new resident, a
known one, an anonymous group), correction, void, import (COPY on PostgreSQL), erasure,
retention, and a plain DELETE. After each sequence, `bwk rollup check`'s comparison finds
nothing, and every figure counted from the rollup equals the same figure counted over the
registrations, for every year, quarter and month and for all rooms, one and two of them.
Refused writes (an erased resident, a restricted one) must leave the rollup as it was."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncConnection
from typer.testing import CliRunner

from api.base import table
from api.calendar import period
from api.caller import Principal
from api.cli import app as cli
from api.db import make_engine
from api.errors import AppError
from api.indicators import rollup
from api.indicators import service as indicators
from api.privacy import service as privacy
from api.registrations import service as registrations
from api.registrations.models import Registration
from api.registrations.schemas import RegistrationCreate
from api.residents.lookup import CodeLimits
from api.residents.models import Resident
from api.rooms import service as rooms

RESIDENT = table(Resident)
REGISTRATION = table(Registration)
LIMITS = CodeLimits(max_misses=1000, window_seconds=60)
EDGES = [date(2019, 1, 1), date(2019, 3, 31), date(2019, 4, 1), date(2019, 12, 31)]
DAYS = st.one_of(
    st.sampled_from([*EDGES, date(2020, 1, 1), date(2020, 2, 29)]),
    st.integers(0, 2 * 365).map(lambda n: date(2019, 1, 1) + timedelta(days=n)),
)
WHO = st.one_of(
    st.tuples(
        st.just("new"),
        st.one_of(st.none(), st.integers(1940, 2015)),
        st.one_of(st.none(), st.sampled_from(["1101", "1102"])),
    ),
    st.tuples(st.just("known"), st.integers(0, 50)),
    st.tuples(st.just("group"), st.integers(1, 30)),
)
STEPS = st.one_of(
    st.tuples(st.just("register"), st.integers(0, 3), st.integers(0, 7), DAYS, WHO),
    st.tuples(
        st.just("correct"),
        st.integers(0, 50),
        st.one_of(st.none(), st.integers(0, 7)),
        st.one_of(st.none(), DAYS),
        st.one_of(st.none(), st.integers(1, 30)),
    ),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(
        st.just("import"),
        st.integers(0, 3),
        st.lists(st.tuples(DAYS, st.integers(0, 7), WHO), min_size=1, max_size=6),
    ),
    st.tuples(st.just("erase"), st.integers(0, 50)),
    # the registrations are of 2019-2020: 24 months anonymises all, 84 some, 120 none
    st.tuples(st.just("retention"), st.sampled_from([24, 84, 120])),
    st.tuples(st.just("delete"), st.integers(0, 50)),
)
PERIODS = [
    period(year, quarter, month)
    for year in (2019, 2020)
    for quarter, month in [(None, None)]
    + [(q, None) for q in range(1, 5)]
    + [(None, m) for m in range(1, 13)]
]


class Desk:
    """The writes, through the service functions, each in its own savepoint (a refusal
    rolls back what it wrote, as the API's transaction would)."""

    def __init__(self, conn: AsyncConnection, ref: Any) -> None:
        self.conn = conn
        self.ref = ref
        self.slugs = sorted(ref.rooms)
        self.codes = list(ref.activities)
        self.principal = Principal(
            kind="user",
            id=uuid.uuid4(),
            role="coordinator",
            name="rollup-test",
            display_name="rollup test",
            room_ids=frozenset(r.id for r in ref.rooms.values()),
            room_slugs=tuple(self.slugs),
            partner_id=None,
            partner_code=None,
            session_id=uuid.uuid4(),
        )
        self.residents: list[uuid.UUID] = []
        self.registrations: list[uuid.UUID] = []

    async def _code(self, resident: uuid.UUID) -> str | None:
        return (
            await self.conn.execute(sa.select(RESIDENT.c.code).where(RESIDENT.c.id == resident))
        ).scalar()

    def _pick(self, items: list[Any], k: int) -> Any:
        return items[k % len(items)] if items else None

    async def step(self, step: tuple[Any, ...]) -> None:
        try:
            async with self.conn.begin_nested():
                await getattr(self, step[0])(*step[1:])
        except AppError:
            pass  # refused: nothing written

    async def register(self, room: int, activity: int, day: date, who: tuple[Any, ...]) -> None:
        data: dict[str, Any] = {
            "room": self.slugs[room],
            "activity": self.codes[activity],
            "occurred_on": day,
        }
        if who[0] == "new":
            data["resident"] = {"birth_year": who[1], "postcode_area": who[2], "languages": []}
        elif who[0] == "known" and self.residents:
            data["resident_id"] = self._pick(self.residents, who[1])
        else:
            data["headcount"] = who[1] if who[0] == "group" else 3
        made = await registrations.create_registration(
            self.conn, self.principal, RegistrationCreate.model_validate(data, by_name=True), LIMITS
        )
        self.registrations.append(made["id"])
        if who[0] == "new":
            self.residents.append(made["residentId"])

    async def _current(self, k: int) -> dict[str, Any] | None:
        chosen = self._pick(self.registrations, k)
        if chosen is None:
            return None
        return await registrations.get_registration(self.conn, self.principal, chosen, audit=False)

    async def correct(
        self, k: int, activity: int | None, day: date | None, headcount: int | None
    ) -> None:
        current = await self._current(k)
        if current is None:
            return
        changes: dict[str, Any] = {"reason": "typo"}
        if activity is not None:
            changes["activity"] = self.codes[activity]
        if day is not None:
            changes["occurred_on"] = day
        if headcount is not None and current["resident_id"] is None:
            changes["headcount"] = headcount
        await registrations.correct_registration(
            self.conn, self.principal, current["id"], f'"{current["version"]}"', changes
        )

    async def void(self, k: int) -> None:
        current = await self._current(k)
        if current is not None:
            await registrations.correct_registration(
                self.conn,
                self.principal,
                current["id"],
                f'"{current["version"]}"',
                {"reason": "twice", "voided": True},
            )

    async def import_(self, room: int, rows: list[tuple[date, int, tuple[Any, ...]]]) -> None:
        lines = []
        for n, (day, activity, who) in enumerate(rows, start=2):
            row = {"date": day.isoformat(), "activity": self.codes[activity]}
            code = (
                await self._code(self._pick(self.residents, who[1]))
                if who[0] == "known" and self.residents
                else None
            )
            if code is not None:
                row["resident_code"] = code
            elif who[0] == "new":
                row["resident_name"] = f"Nieuw {who[1]}"
            else:
                row["headcount"] = str(who[1] if who[0] == "group" else 2)
            lines.append((n, row))
        await registrations.import_registrations(
            self.conn, self.principal, self.slugs[room], lines, LIMITS
        )

    async def erase(self, k: int) -> None:
        resident = self._pick(self.residents, k)
        if resident is not None:
            await privacy.erase_resident(self.conn, self.principal, resident, check=False)

    async def retention(self, months: int) -> None:
        await privacy.retention(
            self.conn,
            self.principal,
            months=months,
            dry_run=False,
            login_window_seconds=900,
            code_window_seconds=3600,
        )

    async def delete(self, k: int) -> None:
        chosen = self._pick(self.registrations, k)
        if chosen is not None:
            await self.conn.execute(REGISTRATION.delete().where(REGISTRATION.c.id == chosen))


async def agrees(conn: AsyncConnection, room_ids: list[int]) -> None:
    assert await rollup.differences(conn) == []
    subsets = [room_ids, room_ids[:1], room_ids[1:3]]
    for p in PERIODS:
        for rooms_ in subsets:
            assert await indicators.realised(conn, p, rooms_) == await indicators.realised(
                conn, p, rooms_, raw=True
            ), (p, rooms_)
            assert await indicators.breakdowns(conn, p, rooms_) == await indicators.breakdowns(
                conn, p, rooms_, raw=True
            ), (p, rooms_)


@pytest.fixture
def desk_engine(app_settings):
    loop = asyncio.new_event_loop()
    engine = make_engine(app_settings)
    yield loop, engine
    loop.run_until_complete(engine.dispose())
    loop.close()


def test_the_rollup_equals_the_registrations_after_any_writes(db, desk_engine):
    loop, engine = desk_engine

    async def run(steps: list[tuple[Any, ...]]) -> None:
        async with engine.connect() as conn:
            await conn.begin()
            ref = await rooms.reference(conn)
            desk = Desk(conn, ref)
            for step in steps:
                await desk.step(("import_", *step[1:]) if step[0] == "import" else step)
            await agrees(conn, sorted(r.id for r in ref.rooms.values()))
            await conn.rollback()

    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(st.lists(STEPS, min_size=1, max_size=12))
    def check(steps: list[tuple[Any, ...]]) -> None:
        loop.run_until_complete(run(steps))

    check()


def test_the_rollup_holds_what_the_figures_need(db, desk_engine):
    """A hand-made case: a resident at two rooms in two quarters, voided, corrected, erased;
    the rollup's rows say exactly that."""
    loop, engine = desk_engine

    async def run() -> None:
        async with engine.connect() as conn:
            await conn.begin()
            ref = await rooms.reference(conn)
            desk = Desk(conn, ref)
            a, b = (ref.rooms[slug].id for slug in desk.slugs[:2])
            await desk.register(0, 0, date(2019, 2, 3), ("new", 1980, "1101"))
            await desk.register(1, 0, date(2019, 5, 3), ("known", 0))
            await desk.register(1, 1, date(2019, 5, 4), ("known", 0))
            await desk.register(1, 1, date(2019, 5, 5), ("group", 12))
            rows = {
                (r.room_id, r.activity_id): (r.months, r.m02, r.m05)
                for r in await conn.execute(sa.text("SELECT * FROM presence WHERE year = 2019"))
            }
            first = ref.activities[desk.codes[0]]
            second = ref.activities[desk.codes[1]]
            assert rows == {
                (a, first): (0b10, 1, 0),
                (b, first): (0b10000, 0, 1),
                (b, second): (0b10000, 0, 1),
                (a, 0): (0b10, 1, 0),
                (b, 0): (0b10000, 0, 2),
                (0, first): (0b10010, 1, 1),
                (0, second): (0b10000, 0, 1),
                (0, 0): (0b10010, 1, 2),
            }
            await desk.void(1)  # room b, first activity
            await desk.correct(2, 0, date(2019, 2, 10), None)  # room b, second -> first, Feb
            rows = {
                (r.room_id, r.activity_id): (r.months, r.m02, r.m05)
                for r in await conn.execute(sa.text("SELECT * FROM presence WHERE year = 2019"))
            }
            assert rows == {
                (a, first): (0b10, 1, 0),
                (b, first): (0b10, 1, 0),
                (a, 0): (0b10, 1, 0),
                (b, 0): (0b10, 1, 0),
                (0, first): (0b10, 2, 0),
                (0, 0): (0b10, 2, 0),
            }
            q2 = period(2019, 2)
            assert (await indicators.realised(conn, q2, [a, b]))[(None, None)] == (12, 0)
            await desk.erase(0)  # the counts stay; the breakdowns see an unknown resident
            assert await rollup.differences(conn) == []
            year = period(2019)
            _, counts = (await indicators.breakdowns(conn, year, [a, b]))["age-band"]
            assert counts[(None, "unknown")] == 1
            await conn.rollback()

    loop.run_until_complete(run())


def test_bwk_rollup_check_finds_what_differs_and_rebuild_mends_it(db, cli_env):
    now = datetime.now(UTC)
    resident = uuid.uuid4()
    with db.engine.begin() as conn:
        room = conn.execute(sa.text("SELECT min(id) FROM room")).scalar_one()
        activity = conn.execute(sa.text("SELECT min(id) FROM activity")).scalar_one()
        conn.execute(
            RESIDENT.insert().values(
                id=resident, languages=[], home_room_id=room, created_at=now, updated_at=now
            )
        )
        conn.execute(
            REGISTRATION.insert(),
            [
                {
                    "id": uuid.uuid4(),
                    "room_id": room,
                    "activity_id": activity,
                    "occurred_on": day,
                    "resident_id": resident,
                    "headcount": 1,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for day in (date(2019, 3, 1), date(2019, 3, 2), date(2019, 7, 1))
            ],
        )
    agreed = CliRunner().invoke(cli, ["rollup", "check"])
    assert agreed.exit_code == 0, agreed.output
    assert "agrees" in agreed.output
    with db.engine.begin() as conn:  # a row lost, another miscounted
        conn.execute(sa.text("DELETE FROM presence WHERE room_id = 0 AND activity_id = 0"))
        conn.execute(sa.text("UPDATE presence SET m03 = 5 WHERE room_id <> 0 AND activity_id <> 0"))
    wrong = CliRunner().invoke(cli, ["rollup", "check"])
    assert wrong.exit_code == 1
    assert "2 row(s) missing or wrong, 1 row(s) there that should not be" in wrong.output
    assert f"missing: year 2019, room all, activity all, resident {resident}" in wrong.output
    assert f"months {0b1000100:012b}" in wrong.output
    rebuilt = CliRunner().invoke(cli, ["rollup", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rollup rebuilt: 4 rows" in rebuilt.output
    again = CliRunner().invoke(cli, ["rollup", "check"])
    assert again.exit_code == 0, again.output
