"""The `bwk` command: serve, migrate, seed, and the administration that later work adds."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from alembic.config import Config
from pydantic import ValidationError
from sqlalchemy import Engine, create_engine

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
    return create_engine(url)


def alembic_config(settings: Settings) -> Config:
    root = Path(__file__).resolve().parent.parent
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    return config


@app.command()
def migrate(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Bring the database schema up to date."""
    from alembic import command

    settings = _settings()
    command.upgrade(alembic_config(settings), revision)
    typer.echo(f"database at {revision}")


@app.command()
def seed(demo: bool = typer.Option(False, "--demo", help="Also demo targets and accounts")) -> None:
    """Load the rooms, activities and partners; with --demo also targets and demo accounts."""
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
            counts.update(seeding.seed_demo_accounts(conn, settings))
    engine.dispose()
    typer.echo("seeded: " + ", ".join(f"{v} new {k}" for k, v in counts.items()))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: int = typer.Option(1, help="Worker processes"),
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
        log_level=settings.log_level.lower(),
        log_config=None,
    )


def main() -> None:
    sys.exit(app())


if __name__ == "__main__":
    main()
