"""The API runs as a database role that owns nothing: it can add to the audit trail and read
it, but not change, empty or unprotect it. `bwk migrate` runs as the owner and grants."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from api.main import create_app
from api.settings import Mode, Settings
from tests import databases
from tests.helpers import headers_for
from tests.servers import (
    ROOT,
    entrypoint_env,
    free_port,
    kill_group,
    output,
    start_entrypoint,
    wait_until_ready,
)

# slow: fresh PostgreSQL roles and databases, migrated by a subprocess
pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

databases.require_postgres_for_module()

INIT_SCRIPT = ROOT / "docker" / "initdb" / "10-application-role.sh"


@dataclass(frozen=True)
class Roles:
    database: str
    owner_url: str
    app_url: str
    app_role: str


def _admin(statements: list[str]) -> None:
    engine = sa.create_engine(databases.POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


def _migrate(owner_url: str, app_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BWK_")}
    env.update(BWK_DATABASE_URL=app_url, BWK_MIGRATE_DATABASE_URL=owner_url)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _init_script(database: str, app: str, password: str) -> None:
    """docker/initdb/10-application-role.sh as the postgres image runs it (psql, as admin)."""
    admin = make_url(databases.POSTGRES_ADMIN_URL)
    env = {
        **os.environ,
        "PGHOST": admin.host or "127.0.0.1",
        "PGPORT": str(admin.port or 5432),
        "PGPASSWORD": admin.password or "",
        "POSTGRES_USER": admin.username or "postgres",
        "POSTGRES_DB": database,
        "BWK_APP_DB_USER": app,
        "BWK_APP_DB_PASSWORD": password,
    }
    done = subprocess.run(
        ["sh", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def roles() -> Iterator[Roles]:
    """A fresh owner role with its database, migrated by it, and a fresh application role
    made by the compose init script."""
    pid = os.getpid()
    database, owner, app = f"bwk_roles_{pid}", f"bwk_owner_{pid}", f"bwk_app_{pid}"
    # quotes and a backslash: the script must not paste the password into SQL
    owner_pw, app_pw = secrets.token_urlsafe(16), "it's \\ " + secrets.token_urlsafe(16)
    drop = [f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)']
    drop += [f'DROP ROLE IF EXISTS "{r}"' for r in (app, owner)]
    _admin(
        [
            *drop,
            f"CREATE ROLE \"{owner}\" LOGIN PASSWORD '{owner_pw}'",
            f'CREATE DATABASE "{database}" OWNER "{owner}"',
        ]
    )
    base = make_url(databases.POSTGRES_ADMIN_URL).set(database=database)
    found = Roles(
        database=database,
        owner_url=base.set(username=owner, password=owner_pw).render_as_string(False),
        app_url=base.set(username=app, password=app_pw).render_as_string(False),
        app_role=app,
    )
    try:
        _init_script(database, app, app_pw)
        migrated = _migrate(found.owner_url, found.app_url)
        assert migrated.returncode == 0, migrated.stderr
        assert f"granted {app}" in migrated.stdout
        yield found
    finally:
        _admin(drop)


def test_migrate_refuses_to_grant_a_role_that_does_not_exist(roles):
    nobody = make_url(roles.app_url).set(username=f"bwk_nobody_{os.getpid()}")
    migrated = _migrate(roles.owner_url, nobody.render_as_string(False))
    assert migrated.returncode == 1
    assert "there is no database role" in migrated.stderr
    assert "Traceback" not in migrated.stderr


@pytest.fixture
def as_app(roles: Roles) -> Iterator[sa.Engine]:
    engine = sa.create_engine(roles.app_url)
    yield engine
    engine.dispose()


AUDIT_ROW = (
    "INSERT INTO audit_event (id, at, actor_kind, action, details) "
    "VALUES (gen_random_uuid(), now(), 'anonymous', 'test.insert', '{}')"
)
REFUSED = {
    "UPDATE audit_event SET action = 'forged'": "permission denied",
    "DELETE FROM audit_event": "permission denied",
    "TRUNCATE audit_event": "permission denied",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only": "must be owner",
    "ALTER TABLE audit_event DISABLE TRIGGER ALL": "must be owner",
    "DROP TRIGGER audit_event_append_only ON audit_event": "must be owner",
    "DROP TABLE audit_event": "must be owner",
    # the way around triggers that the test databases take needs a superuser
    "SET session_replication_role = replica": "permission denied",
}


def test_the_application_role_adds_to_the_trail_and_reads_it(as_app):
    with as_app.begin() as conn:
        conn.execute(sa.text(AUDIT_ROW))
    with as_app.connect() as conn:
        count = "SELECT count(*) FROM audit_event WHERE action = 'test.insert'"
        assert conn.execute(sa.text(count)).scalar() >= 1


@pytest.mark.parametrize("statement", sorted(REFUSED))
def test_the_application_role_cannot_alter_the_trail(as_app, statement):
    with as_app.begin() as conn:
        conn.execute(sa.text(AUDIT_ROW))
    with pytest.raises(sa.exc.DBAPIError, match=REFUSED[statement]), as_app.begin() as conn:
        conn.execute(sa.text(statement))
    with as_app.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_event")).scalar() >= 1
        forged = "SELECT count(*) FROM audit_event WHERE action = 'forged'"
        assert conn.execute(sa.text(forged)).scalar() == 0


def test_the_application_role_owns_nothing(as_app):
    with as_app.connect() as conn:
        powers = "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = user"
        assert tuple(conn.execute(sa.text(powers)).one()) == (False, False, False)
        owned = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
            )
        ).scalar()
        assert owned == 0
        # nor can it make something of its own in the schema
        with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
            conn.execute(sa.text("CREATE TABLE mine (id int)"))


async def test_the_whole_application_works_as_that_role(roles, as_app):
    # seeding (bwk seed) runs as the application too
    databases.seed_demo(as_app)
    settings = Settings(
        mode=Mode.demo,
        database_url=roles.app_url,
        log_json=True,
        gc_tuning=False,
        **databases.FAST_HASHING,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    day = (date.today() - timedelta(days=3)).isoformat()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client,
    ):
        assert (await client.get("/health/ready")).status_code == 200
        coordinator = await headers_for(client, "coordinator.multibron")
        help_given = {
            "room": "multibron",
            "activity": "forms",
            "occurredOn": day,
            "resident": {"name": "Roos"},
        }
        registered = await client.post("/registrations", headers=coordinator, json=help_given)
        assert registered.status_code == 201, registered.text
        resident_id = registered.json()["residentId"]
        figures = await client.get(
            "/indicators/performance", headers=coordinator, params={"year": day[:4]}
        )
        assert figures.status_code == 200, figures.text
        # erasure changes and removes rows across tables; the trail keeps its events
        erased = await client.delete(f"/residents/{resident_id}", headers=coordinator)
        assert erased.status_code == 204, erased.text
        admin = await headers_for(client, "admin")
        trail = await client.get("/audit-events", headers=admin, params={"residentId": resident_id})
        assert {"registration.create", "resident.erase"} <= {
            e["action"] for e in trail.json()["items"]
        }


def test_the_image_migrates_as_owner_and_serves_without_the_owner_url(roles):
    port = free_port()
    env = entrypoint_env(
        BWK_DATABASE_URL=roles.app_url,
        BWK_MIGRATE_DATABASE_URL=roles.owner_url,
        PORT=str(port),
    )
    # another test here seeds demo accounts, which production refuses to start with
    env["BWK_MODE"] = "demo"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = start_entrypoint(env, out=out, err=err)
        try:
            # three Python starts (probe, migrate, serve): slow on a busy machine
            ready = wait_until_ready(f"http://127.0.0.1:{port}/api/v1", 120, proc=proc)
            assert ready, f"exited ({proc.poll()}) or not ready in 120 s:\n{output(err)}"
            assert f"granted {roles.app_role}" in output(out)
            # the server (exec'd: the same process) never holds the owner's URL
            environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
            assert any(v.startswith(b"BWK_DATABASE_URL=") for v in environ)
            assert not any(v.startswith(b"BWK_MIGRATE_DATABASE_URL=") for v in environ)
        finally:
            kill_group(proc)
