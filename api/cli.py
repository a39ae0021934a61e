"""The `bwk` command: serve, migrate, seed, and the administration that later work adds."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from alembic.config import Config
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, NullPool, create_engine
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db import ensure_sqlite_dir, sync_url
from api.settings import Settings, get_settings

app = typer.Typer(
    help="Buurtwerkkamers API: run and administer the service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        for err in exc.errors():
            typer.secho(f"configuration error: {err['msg']}", err=True, fg="red")
        raise typer.Exit(2) from None


def _sync_engine(settings: Settings) -> Engine:
    url = sync_url(settings.database_url)
    ensure_sqlite_dir(url)
    return create_engine(url, hide_parameters=True)


def alembic_config(settings: Settings) -> Config:
    """Alembic's configuration from alembic.ini and alembic/ of this project: next to the
    api package in a source checkout, or in the working directory (the container's /app)."""
    for root in (Path(__file__).resolve().parent.parent, Path.cwd()):
        if (root / "alembic.ini").exists() and (root / "alembic" / "env.py").exists():
            config = Config(str(root / "alembic.ini"))
            config.set_main_option("script_location", str(root / "alembic"))
            return config
    typer.secho("cannot find alembic.ini and alembic/: run bwk from the project folder", err=True)
    raise typer.Exit(2)


@app.command()
def migrate(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Bring the database schema up to date (as BWK_MIGRATE_DATABASE_URL's owner, when set),
    then grant the application's role (BWK_DATABASE_URL's user) what it needs."""
    from alembic import command
    from api import grants

    settings = _settings()
    command.upgrade(alembic_config(settings), revision)
    typer.echo(f"database at {revision}")
    role = grants.application_role(settings.database_url)
    if role is None:
        return  # SQLite: one file, no roles
    engine = create_engine(sync_url(settings.migration_url), hide_parameters=True)
    try:
        with engine.begin() as conn:
            granted = grants.grant(conn, role)
    except LookupError as exc:
        typer.secho(f"refused: {exc}", err=True, fg="red")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if granted:
        typer.echo(f"granted {role} what the application needs (audit trail: SELECT, INSERT)")
    else:
        typer.secho(
            f"warning: the application connects as the owner {role}, which can alter the audit "
            "trail; set BWK_MIGRATE_DATABASE_URL to the owner's URL and BWK_DATABASE_URL to a "
            "role that owns nothing",
            err=True,
            fg="yellow",
        )


@app.command()
def seed(
    demo: bool = typer.Option(
        False, "--demo", help="Also demo targets, the 2019 budget and accounts"
    ),
) -> None:
    """Load the rooms, activities and partners; with --demo also targets, the 2019 budget
    (income, costs, subsidy grants, staff) and demo accounts."""
    from api import seed as seeding

    settings = _settings()
    if demo and not settings.is_demo:
        typer.secho(
            "refusing to load demo data: BWK_MODE is not 'demo' (demo accounts have "
            "published passwords and must never exist in production)",
            err=True,
            fg="red",
        )
        raise typer.Exit(1)
    engine = _sync_engine(settings)
    with engine.begin() as conn:
        counts = seeding.seed_reference(conn)
        if demo:
            counts["targets"] = seeding.seed_targets(conn)
            counts.update(seeding.seed_budgets(conn))
            counts.update(seeding.seed_demo_accounts(conn, settings))
    engine.dispose()
    typer.echo("seeded: " + ", ".join(f"{v} new {k}" for k, v in counts.items()))


users = typer.Typer(help="Accounts of people (bootstrap a production install).")
clients = typer.Typer(help="API clients of partner systems.")
app.add_typer(users, name="users")
app.add_typer(clients, name="clients")


def _run_service(settings: Settings, call: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
    """Run one service call in a transaction, as the API would."""
    from api.db import make_engine, transaction
    from api.errors import AppError

    async def run() -> Any:
        engine = make_engine(settings)
        try:
            async with transaction(engine) as conn:
                return await call(conn)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except AppError as exc:
        typer.secho(f"refused: {exc.detail}", err=True, fg="red")
        for name, reason in _invalid(exc):
            typer.secho(f"  {name}: {reason}", err=True)
        raise typer.Exit(1) from None


def _invalid(exc: Exception) -> list[tuple[str, str]]:
    params = getattr(exc, "extra", {}).get("invalidParams", [])
    return [(p["name"], p["reason"]) for p in params]


Body = TypeVar("Body", bound=BaseModel)


def _validated(model: type[Body], data: dict[str, object]) -> Body:
    """The same validation as the API's request body; errors as one line per field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            typer.secho(f"invalid {'.'.join(map(str, err['loc']))}: {err['msg']}", err=True)
        raise typer.Exit(2) from None


@users.command("add")
def users_add(
    username: str = typer.Argument(..., help="Login name, e.g. coordinator.multibron"),
    role: str = typer.Option(..., help="volunteer, coordinator, stadsdeel or admin"),
    display_name: str = typer.Option(..., "--display-name", help="Name shown to colleagues"),
    room: list[str] = typer.Option([], help="Room slug (repeat for more rooms)"),
) -> None:
    """Add an account; its generated password is printed once."""
    from api.accounts import users
    from api.accounts.schemas import UserCreate
    from api.caller import SYSTEM
    from api.security import Passwords

    settings = _settings()
    body = _validated(
        UserCreate, {"username": username, "role": role, "displayName": display_name, "rooms": room}
    )
    passwords = Passwords(settings)
    created = _run_service(settings, lambda conn: users.create_user(conn, SYSTEM, passwords, body))
    typer.echo(f"added {created['role']} {created['username']} ({created['id']})")
    typer.echo(f"password (shown once): {created['initial_password']}")


@clients.command("add")
def clients_add(
    client_id: str = typer.Argument(..., help="The client id the partner's system signs in with"),
    partner: str = typer.Option(..., help="Partner code, e.g. madi"),
    description: str = typer.Option(..., help="Whose system this is"),
) -> None:
    """Add a partner system's API client; its secret is printed once."""
    from api.accounts import clients
    from api.accounts.schemas import ClientCreate
    from api.caller import SYSTEM
    from api.security import Passwords

    settings = _settings()
    body = _validated(
        ClientCreate, {"clientId": client_id, "partner": partner, "description": description}
    )
    passwords = Passwords(settings)
    created = _run_service(
        settings, lambda conn: clients.create_client(conn, SYSTEM, passwords, body)
    )
    typer.echo(f"added client {created['client_id']} for {created['partner']} ({created['id']})")
    typer.echo(f"client secret (shown once): {created['client_secret']}")


@app.command("import")
def import_list(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The room's list (CSV)"),
    room: str = typer.Option(..., help="The room the list is of, e.g. multibron"),
) -> None:
    """Import a room's paper list or spreadsheet (CSV): every row, or none."""
    import dataclasses

    from rich.progress import Progress

    from api.caller import SYSTEM
    from api.errors import AppError
    from api.registrations import imports
    from api.registrations.importing import ImportFormatError, read_csv
    from api.residents.lookup import CodeLimits
    from api.rooms import service as rooms

    settings = _settings()
    try:
        rows = list(read_csv(file.read_text(encoding="utf-8-sig")))
    except (ImportFormatError, UnicodeDecodeError) as exc:
        typer.secho(f"cannot read {file}: {exc}", err=True, fg="red")
        raise typer.Exit(2) from None

    async def run(conn: AsyncConnection) -> Any:
        ref = await rooms.room_ref(conn, room)
        if ref is None:
            raise AppError(f"there is no room '{room}'")
        operator = dataclasses.replace(SYSTEM, room_ids=frozenset({ref.id}))
        with Progress(transient=True) as bar:
            task = bar.add_task(f"importing {len(rows)} rows", total=len(rows))
            return await imports.import_registrations(
                conn,
                operator,
                room,
                rows,
                CodeLimits.of(settings),
                progress=lambda done: bar.update(task, completed=done),
            )

    result = _run_service(settings, run)
    typer.echo(
        f"imported {result['registrations']} registrations, "
        f"{result['residents_created']} new residents, into {room}"
    )


retention = typer.Typer(help="Keep nothing longer than needed.")
app.add_typer(retention, name="retention")


@retention.command("run")
def retention_run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would be done"),
    months: int = typer.Option(0, help="No contact for this long (default BWK_RETENTION_MONTHS)"),
) -> None:
    """Anonymise residents with no contact for a long time; purge expired records."""
    from api.caller import SYSTEM
    from api.privacy import service

    settings = _settings()
    counts = _run_service(
        settings,
        lambda conn: service.retention(
            conn,
            SYSTEM,
            months=months or settings.retention_months,
            dry_run=dry_run,
            login_window_seconds=settings.login_window_seconds,
            code_window_seconds=settings.code_miss_window_seconds,
        ),
    )
    verb = "would remove" if dry_run else "removed"
    for label, count in counts.items():
        typer.echo(f"{verb}: {count} {label}")


rollup = typer.Typer(help="The figures' presence rollup, kept beside the registrations.")
app.add_typer(rollup, name="rollup")


@rollup.command("check")
def rollup_check(
    show: int = typer.Option(20, min=0, help="How many differing rows to list"),
) -> None:
    """Compare the rollup with the registrations; exit 1 and list what differs."""
    from api.indicators import rollup as presence

    rows = _run_service(_settings(), presence.differences)
    if not rows:
        typer.echo("the rollup agrees with the registrations")
        return
    missing = sum(1 for r in rows if r["side"] == "missing")
    typer.secho(
        f"the rollup differs from the registrations: {missing} row(s) missing or wrong, "
        f"{len(rows) - missing} row(s) there that should not be (or wrong); "
        "`bwk rollup rebuild` remakes it",
        err=True,
        fg="red",
    )
    for r in rows[:show]:
        typer.echo(
            f"  {r['side']}: year {r['year']}, room {r['room_id'] or 'all'}, "
            f"activity {r['activity_id'] or 'all'}, resident {r['resident_id']}, "
            f"months {r['months']:012b}"
        )
    if len(rows) > show:
        typer.echo(f"  ... and {len(rows) - show} more")
    raise typer.Exit(1)


@rollup.command("rebuild")
def rollup_rebuild() -> None:
    """Remake the rollup from the registrations, in one transaction (writes of
    registrations wait for it on PostgreSQL)."""
    from api.indicators import rollup as presence

    count = _run_service(_settings(), presence.rebuild)
    typer.echo(f"rollup rebuilt: {count} rows")


@app.command()
def worker(
    once: bool = typer.Option(False, "--once", help="Deliver what is due, then stop"),
    interval: float = typer.Option(1.0, help="Seconds between looks at the outbox"),
) -> None:
    """Deliver partners' webhook events from the outbox (run one or more beside the API)."""
    from api.db import make_engine
    from api.webhooks.service import run_worker

    settings = _settings()

    async def run() -> None:
        engine = make_engine(settings)
        try:
            await run_worker(engine, allow_private=settings.is_demo, interval=interval, once=once)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _max_connections(settings: Settings) -> int | None:
    """PostgreSQL's max_connections less the superuser's reserve; None for SQLite or when
    the database does not answer within 3 s (serving does not wait for it)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    if settings.is_sqlite:
        return None
    engine = create_engine(
        sync_url(settings.database_url),
        hide_parameters=True,
        connect_args={"connect_timeout": 3},
        poolclass=NullPool,
    )
    try:
        with engine.connect() as conn:
            total = int(conn.execute(text("SHOW max_connections")).scalar_one())
            reserved = int(conn.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    except (SQLAlchemyError, ValueError):
        return None
    finally:
        engine.dispose()
    return total - reserved


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: int | None = typer.Option(
        None, min=0, help="Worker processes (default BWK_WORKERS; 0: one per CPU)"
    ),
) -> None:
    """Serve the API with uvicorn: one worker process per CPU unless told otherwise."""
    import structlog

    from api import cpus, serving
    from api.logging import configure as configure_logging

    settings = _settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    asked = settings.workers if workers is None else workers
    count = asked or cpus.available()
    # each worker has its own pool: the database must accept this many
    connections = count * (settings.db_pool_size + settings.db_max_overflow)
    log = structlog.get_logger("api.serve")
    log.info("serving", workers=count, per_cpu=not asked, db_connections_at_most=connections)
    allowed = _max_connections(settings)
    if allowed is not None and connections > allowed:
        log.warning(
            "workers_may_exhaust_the_database",
            db_connections_at_most=connections,
            max_connections=allowed,
            advice="lower BWK_WORKERS or BWK_DB_POOL_SIZE + BWK_DB_MAX_OVERFLOW, or put "
            "PgBouncer in front",
        )
    if count > 1:  # the workers add up their metrics in files there
        from api.metrics import prepare_multiprocess_dir

        prepare_multiprocess_dir()
    started = serving.run(
        serving.TCPConfig(
            "api.main:app",
            host=host,
            port=port,
            workers=count,
            loop=settings.event_loop,
            access_log=False,
            # the app applies BWK_FORWARDED_ALLOW_IPS itself (api/main.py), whatever serves
            # it; uvicorn's own rule would believe X-Forwarded-For from 127.0.0.1
            proxy_headers=False,
            # headers past this never reach the app with the h11 parser; the app answers 431
            h11_max_incomplete_event_size=settings.max_header_bytes + 1024,
            timeout_graceful_shutdown=20,
            # a new worker answers the supervisor's ping only after importing this module;
            # on a busy host that takes longer than uvicorn's 5 s, and the supervisor would
            # kill and restart the workers in a loop
            timeout_worker_healthcheck=60,
            log_level=settings.log_level.lower(),
            log_config=None,
        )
    )
    if count == 1 and not started:
        raise typer.Exit(3)  # uvicorn's STARTUP_FAILURE
    if count > 1:
        _stop_resource_tracker()


def _stop_resource_tracker() -> None:
    """uvicorn spawns its workers, which starts multiprocessing's resource tracker; stop and
    reap it, so that the supervisor is the last of its process group to exit (an orphaned
    tracker lingers until it notices, and as a zombie where PID 1 reaps nothing)."""
    from multiprocessing import resource_tracker

    stop = getattr(resource_tracker._resource_tracker, "_stop", None)
    if stop is not None:
        stop()


def main() -> None:
    sys.exit(app())


if __name__ == "__main__":
    main()
