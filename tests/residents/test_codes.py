"""Resident codes are not a key anyone can try: a check character catches typos without a
lookup, every code that finds no one is a miss of the caller's account, and after ten
misses in an hour every lookup by code is a 429, on every path and every replica."""

from __future__ import annotations

import importlib.util
import json
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import api.models
from api.caller import SYSTEM
from api.cli import app as cli
from api.main import create_app
from api.privacy import service as privacy
from api.residents import codes
from api.settings import get_settings
from tests import databases
from tests.helpers import assert_problem, headers_for

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
AUDIT = api.models.metadata.tables["audit_event"]
FAILURE = api.models.metadata.tables["login_failure"]
RESIDENT = api.models.metadata.tables["resident"]
MIGRATION = next(Path("alembic/versions").glob("*_resident_code_check_character.py"))


def guesses(count: int, seed: int = 7) -> list[str]:
    """Well-formed codes (right check character) that almost surely belong to no one."""
    rng = random.Random(seed)
    return [
        codes.with_check("".join(rng.choice(codes.ALPHABET) for _ in range(6)))
        for _ in range(count)
    ]


def mistyped(code: str) -> str:
    last = code[-1]
    return code[:-1] + next(c for c in codes.ALPHABET if c != last)


async def register(client, headers, code):
    return await client.post(
        "/registrations",
        headers=headers,
        json={
            "room": "multibron",
            "activity": "forms",
            "occurredOn": YESTERDAY,
            "residentCode": code,
        },
    )


async def import_list(client, headers, code_list, room="multibron"):
    text = "date,activity,residentCode\n" + "".join(f"{YESTERDAY},forms,{c}\n" for c in code_list)
    return await client.post(
        "/registrations/import",
        params={"room": room},
        headers={**headers, "Content-Type": "text/csv"},
        content=text.encode(),
    )


def events(db, action: str) -> list[dict]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(AUDIT).where(AUDIT.c.action == action).order_by(AUDIT.c.at))
        return [dict(r._mapping) for r in rows]


def misses(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).where(FAILURE.c.username.startswith("code:"))
        ).scalar_one()


@pytest.fixture
async def gerda(client, volunteer_samen_sterk):
    """A resident of Samen Sterk: her code is what a MultiBron coordinator would guess at."""
    return (
        await client.post("/residents", headers=volunteer_samen_sterk, json={"room": "samen-sterk"})
    ).json()


# -- the check character ------------------------------------------------------------------


def test_every_single_mistyped_character_is_caught():
    for code in guesses(50):
        assert codes.is_valid(code)
        for position in (0, 1, 2, 4, 5, 6, 7):
            for char in codes.ALPHABET:
                if char != code[position]:
                    typo = code[:position] + char + code[position + 1 :]
                    assert not codes.is_valid(typo), (code, typo)


def test_codes_are_read_as_people_type_them():
    code = guesses(1)[0]
    assert codes.checked(f" {code.lower().replace('-', ' ')} ") == code
    assert codes.checked(code.replace("-", "")) == code


def test_the_migration_and_the_application_agree_on_the_check_character():
    spec = importlib.util.spec_from_file_location("migration", MIGRATION)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for code in guesses(200):
        payload = code.replace("-", "")[:6]
        assert migration._check(payload) == codes.check_character(payload)


@pytest.mark.slow
def test_the_migration_adds_the_check_character_and_takes_it_off_again():
    db = databases.create("sqlite", f"bwk_test_codes_{time.monotonic_ns()}")
    try:
        databases.migrate(db.engine)
        databases.seed_demo(db.engine)
        databases.migrate(db.engine, "5c0a7e3d41b2", down=True)
        old = [f"{c[:3]}-{c[4:7]}" for c in guesses(300)]
        with db.engine.begin() as conn:
            room = conn.execute(sa.text("SELECT id FROM room WHERE slug = 'multibron'")).scalar()
            conn.execute(
                sa.text(
                    "INSERT INTO resident (id, code, languages, home_room_id, created_at,"
                    " updated_at) VALUES (:id, :code, '[]', :room, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                ),
                [{"id": f"{i:032x}", "code": c, "room": room} for i, c in enumerate(old)],
            )
        databases.migrate(db.engine)
        with db.engine.connect() as conn:
            upgraded = sorted(conn.execute(sa.select(RESIDENT.c.code)).scalars())
        assert all(codes.is_valid(c) for c in upgraded)
        assert sorted(c[:7] for c in upgraded) == sorted(old)
        databases.migrate(db.engine, "5c0a7e3d41b2", down=True)
        with db.engine.connect() as conn:
            assert sorted(conn.execute(sa.select(RESIDENT.c.code)).scalars()) == sorted(old)
    finally:
        databases.dispose(db)


# -- typos cost nothing -------------------------------------------------------------------


async def test_a_typo_is_a_422_that_is_not_looked_up_nor_counted(client, db, coordinator, gerda):
    for _ in range(25):
        response = await register(client, coordinator, mistyped(gerda["code"]))
        problem = assert_problem(response, 422)
        assert problem["type"].endswith("resident-code-typo")
        assert "mistyped" in problem["detail"]
    listed = await client.get(
        "/residents", headers=coordinator, params={"code": mistyped(gerda["code"])}
    )
    assert_problem(listed, 422)
    assert misses(db) == 0
    assert events(db, "resident.code_lookup") == []
    # and the right code still works: 26 typos spent none of the ten misses
    assert (await register(client, coordinator, gerda["code"])).status_code == 201


# -- the done-when figure: 1,000 guesses --------------------------------------------------


@pytest.mark.slow
async def test_a_thousand_guesses_at_the_desk_get_429_before_100_are_looked_up(
    client, db, coordinator
):
    statuses = [(await register(client, coordinator, code)).status_code for code in guesses(1000)]
    first_429 = statuses.index(429)
    assert first_429 == 10 and set(statuses[:10]) == {400}
    assert set(statuses[10:]) == {429}
    assert misses(db) == 10  # looked up: 10 of 1,000
    # every attempt is on the audit trail: ten lookups that missed, 990 refused
    looked = events(db, "resident.code_lookup")
    throttled = events(db, "resident.code_throttled")
    assert [e["details"]["misses"] for e in looked] == [1] * 10
    assert len(looked) + len(throttled) == 1000


async def test_a_thousand_guesses_in_imports_get_429_before_100_are_looked_up(
    client, db, coordinator
):
    batches = [guesses(1000)[i : i + 100] for i in range(0, 1000, 100)]
    statuses = [(await import_list(client, coordinator, batch)).status_code for batch in batches]
    assert statuses == [422] + [429] * 9
    assert misses(db) == 10  # the first list was looked up ten codes at a time, and stopped
    (looked,) = events(db, "resident.code_lookup")
    assert looked["details"] == {
        "via": "import",
        "hits": 0,
        "misses": 10,
        "notLookedUp": 90,
    }
    throttled = events(db, "resident.code_throttled")
    assert sum(e["details"]["codes"] for e in throttled) == 900
    refused = events(db, "registration.import_refused")
    assert [e["details"]["reason"] for e in refused] == ["unknown-resident-codes"] + [
        "too-many-requests"
    ] * 9


async def test_one_list_of_a_thousand_guesses_looks_up_ten(client, db, coordinator):
    response = await import_list(client, coordinator, guesses(1000))
    assert_problem(response, 422)
    assert misses(db) == 10
    assert_problem(await import_list(client, coordinator, guesses(1, seed=8)), 429)


async def test_an_imports_refusal_says_nothing_of_how_many_codes_are_known(
    client, db, coordinator, gerda
):
    own = (await client.post("/residents", headers=coordinator, json={"room": "multibron"})).json()
    one_unknown = await import_list(client, coordinator, [own["code"], *guesses(1)])
    many_unknown = await import_list(client, coordinator, [gerda["code"], *guesses(5, seed=9)])
    a, b = assert_problem(one_unknown, 422), assert_problem(many_unknown, 422)
    assert a == b
    assert "invalidParams" not in a
    assert misses(db) == 6


def test_bwk_import_counts_and_is_throttled_too(db, monkeypatch, tmp_path):
    monkeypatch.setenv("BWK_DATABASE_URL", db.url)
    monkeypatch.setenv("BWK_CODE_MAX_MISSES", "3")
    get_settings.cache_clear()
    try:
        path = tmp_path / "list.csv"
        path.write_text("date,activity,residentCode\n" + f"{YESTERDAY},forms,{guesses(1)[0]}\n")
        outputs = []
        for _ in range(4):
            result = CliRunner().invoke(cli, ["import", str(path), "--room", "multibron"])
            assert result.exit_code == 1
            outputs.append(result.output)
    finally:
        get_settings.cache_clear()
    assert all("not known" in out for out in outputs[:3]), outputs
    assert "Too many" in outputs[3]
    assert misses(db) == 3


# -- the other ways to reach a resident by code ---------------------------------------------


async def test_looking_a_code_up_in_the_list_counts_too(client, db, coordinator, gerda, volunteer):
    # another room's resident is not in this room's list: a miss like any unknown code
    listed = await client.get("/residents", headers=volunteer, params={"code": gerda["code"]})
    assert listed.json()["items"] == []
    for code in guesses(9):
        found = await client.get("/residents", headers=volunteer, params={"code": code})
        assert found.status_code == 200
    response = await client.get("/residents", headers=volunteer, params={"code": gerda["code"]})
    assert_problem(response, 429)
    assert misses(db) == 10


async def test_retry_after_and_the_window_passing(client, db, coordinator, gerda):
    for code in guesses(10):
        await register(client, coordinator, code)
    refused = await register(client, coordinator, gerda["code"])
    assert_problem(refused, 429)
    wait = int(refused.headers["Retry-After"])
    assert 3500 < wait <= 3601
    # an hour later the misses have left the window
    with db.engine.begin() as conn:
        conn.execute(FAILURE.update().values(at=datetime.now(UTC) - timedelta(seconds=3601)))
    assert (await register(client, coordinator, gerda["code"])).status_code == 201


async def test_misses_are_per_account(client, db, coordinator, gerda, volunteer):
    for code in guesses(10):
        await register(client, coordinator, code)
    assert_problem(await register(client, coordinator, gerda["code"]), 429)
    assert (await register(client, volunteer, gerda["code"])).status_code == 201


async def test_the_throttle_holds_across_two_replicas_on_one_database(app_settings, db, gerda):
    one, two = create_app(app_settings), create_app(app_settings)
    async with (
        one.router.lifespan_context(one),
        two.router.lifespan_context(two),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=one), base_url="http://one/api/v1"
        ) as first,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=two), base_url="http://two/api/v1"
        ) as second,
    ):
        headers = await headers_for(first, "coordinator.multibron")
        for code in guesses(10):
            assert (await register(first, headers, code)).status_code == 400
        assert_problem(await register(second, headers, gerda["code"]), 429)
        assert_problem(await import_list(second, headers, [gerda["code"]]), 429)


# -- the audit trail ------------------------------------------------------------------------


async def test_every_attempt_is_audited_and_no_event_holds_a_code(client, db, coordinator, gerda):
    own = (await client.post("/residents", headers=coordinator, json={"room": "multibron"})).json()
    tried = [gerda["code"], own["code"], *guesses(3)]
    assert (await register(client, coordinator, gerda["code"])).status_code == 201
    assert (await register(client, coordinator, tried[2])).status_code == 400
    assert (await import_list(client, coordinator, [own["code"], gerda["code"]])).status_code == 201
    assert (await import_list(client, coordinator, tried[3:])).status_code == 422
    await client.get("/residents", headers=coordinator, params={"code": own["code"]})
    looked = events(db, "resident.code_lookup")
    assert [
        (e["details"]["via"], e["details"]["hits"], e["details"]["misses"]) for e in looked
    ] == [
        ("registration", 1, 0),
        ("registration", 0, 1),
        ("import", 2, 0),
        ("import", 0, 2),
        ("list", 1, 0),
    ]
    assert looked[0]["resident_id"] is not None  # a single hit names the resident's id
    assert len(events(db, "registration.import_refused")) == 1
    with db.engine.connect() as conn:
        trail = json.dumps([dict(r._mapping) for r in conn.execute(sa.select(AUDIT))], default=str)
    for code in tried:
        assert code not in trail and code.replace("-", "") not in trail


async def test_the_retention_run_keeps_misses_for_the_whole_window(app, client, db, coordinator):
    for code in guesses(10):
        await register(client, coordinator, code)
    # twenty minutes on: past the sign-in window (15 minutes), inside the code window (an hour)
    with db.engine.begin() as conn:
        conn.execute(FAILURE.update().values(at=datetime.now(UTC) - timedelta(minutes=20)))
    settings = app.state.settings
    async with app.state.engine.begin() as conn:
        await privacy.retention(
            conn,
            SYSTEM,
            months=settings.retention_months,
            dry_run=False,
            login_window_seconds=settings.login_window_seconds,
            code_window_seconds=settings.code_miss_window_seconds,
        )
    assert misses(db) == 10
    assert_problem(await register(client, coordinator, guesses(1, seed=3)[0]), 429)
