"""Production refuses to start unsafe; demo data never reaches production."""

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from api.cli import app as cli
from api.main import create_app
from api.settings import Mode, Settings, get_settings

STRONG = "x" * 48


def test_production_refuses_the_default_secret():
    with pytest.raises(ValidationError, match="BWK_SECRET_KEY"):
        Settings(mode=Mode.production, database_url="postgresql+psycopg://db/bwk")


def test_production_refuses_a_short_secret():
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(
            mode=Mode.production, database_url="postgresql+psycopg://db/bwk", secret_key="s" * 31
        )


def test_production_needs_a_database_url():
    with pytest.raises(ValidationError, match="BWK_DATABASE_URL"):
        Settings(mode=Mode.production, secret_key=STRONG, database_url="")


def test_production_with_a_strong_secret_starts():
    settings = Settings(
        mode=Mode.production, database_url="postgresql+psycopg://db/x", secret_key=STRONG
    )
    assert settings.json_logs
    assert not settings.is_demo


def test_settings_come_from_bwk_environment_variables(monkeypatch):
    monkeypatch.setenv("BWK_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("BWK_PREVIOUS_SECRET_KEYS", "k0=" + STRONG)
    settings = Settings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.previous_secret_keys["k0"].get_secret_value() == STRONG


def test_seeding_demo_data_in_production_exits_non_zero(monkeypatch, db):
    monkeypatch.setenv("BWK_MODE", "production")
    monkeypatch.setenv("BWK_SECRET_KEY", STRONG)
    monkeypatch.setenv("BWK_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["seed", "--demo"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
    assert "demo" in result.output


def test_a_bad_configuration_is_a_clear_message_not_a_traceback(monkeypatch):
    monkeypatch.setenv("BWK_MODE", "production")
    monkeypatch.delenv("BWK_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["seed"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "BWK_SECRET_KEY" in result.output
    assert "Traceback" not in result.output


async def test_production_refuses_to_start_while_demo_accounts_exist(db):
    settings = Settings(
        mode=Mode.production,
        database_url=db.url,
        secret_key=STRONG,
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
    )
    application = create_app(settings)
    with pytest.raises(RuntimeError, match="demo accounts"):
        async with application.router.lifespan_context(application):
            pass


def test_migrations_connect_as_the_owner_only_when_told():
    app_url = "postgresql+psycopg://bwk_app:pw@db:5432/bwk"
    owner_url = "postgresql+psycopg://bwk:pw@db:5432/bwk"
    assert Settings(database_url=app_url).migration_url == app_url
    told = Settings(database_url=app_url, migrate_database_url=owner_url)
    assert (told.database_url, told.migration_url) == (app_url, owner_url)
    # the demo stays one SQLite file: the same for migrating and serving
    demo = Settings()
    assert demo.is_sqlite
    assert demo.migration_url == demo.database_url
