"""One Settings class, read from BWK_ environment variables and validated at start-up."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET = "change-me-demo-only-secret-key-not-for-production"  # noqa: S105
MIN_SECRET_LENGTH = 32
DEFAULT_DATA_DIR = Path.cwd() / "data"


class Mode(StrEnum):
    demo = "demo"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BWK_", env_file=None, extra="ignore")

    mode: Mode = Mode.demo
    database_url: str = ""
    # `bwk migrate` connects as the schema's owner through this URL (PostgreSQL); the API
    # connects through database_url as a role that owns nothing. Unset: database_url.
    migrate_database_url: str = ""
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    # The key id (JWT "kid") of secret_key; give the new key a new id when rolling keys.
    secret_key_id: str = Field("k1", pattern=r"^[A-Za-z0-9._-]{1,40}$")
    # Extra keys still accepted for verifying tokens while rolling to a new secret: "kid=secret,..."
    previous_secret_keys: Annotated[dict[str, SecretStr], NoDecode] = Field(default_factory=dict)
    token_issuer: str = "bwk-api"  # noqa: S105 - a name, not a secret
    token_audience: str = "bwk-api"  # noqa: S105
    access_token_minutes: int = Field(15, ge=1, le=60)
    refresh_token_days: int = Field(14, ge=1, le=90)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # the server URL in the OpenAPI document; empty: relative ("/api/v1"), right on any host
    public_url: str = ""
    # addresses (or "*") of the proxies whose X-Forwarded-For / -Proto are believed; none by
    # default, so nobody on the machine can pose as another address
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    contact_name: str = "BuurtWerkKamerCoöperatie Amsterdam Zuidoost"
    contact_email: str = "api@buurtwerkkamers.example"
    contact_url: str = "https://buurtwerkkamers.example"
    log_level: str = "INFO"
    log_json: bool | None = None
    # `bwk serve`'s (and the image's) worker processes; 0: one per CPU this process may use
    # (its affinity, capped by a container's CPU quota: api/cpus.py)
    workers: int = Field(0, ge=0, le=512)
    # a serving process moves what it made to start out of the garbage collector's sight
    # (gc.freeze) and collects its youngest objects less often: the collector's pauses were
    # most of the p99 of the desk's requests (false: Python's defaults, as in the tests)
    gc_tuning: bool = True
    # the event loop of `bwk serve` and the image. asyncio's serves a saturated worker's
    # requests in turn; uvloop's lets new requests overtake the answers of earlier ones (its
    # issue #123: at 256 connections some wait over 2 s), and was no faster here (README,
    # "Measured")
    event_loop: Literal["asyncio", "uvloop"] = "asyncio"
    # one worker serves many concurrent requests: keep enough connections open
    db_pool_size: int = Field(20, ge=1, le=200)
    db_max_overflow: int = Field(20, ge=0, le=200)
    db_pool_timeout: float = Field(5.0, gt=0)
    db_statement_timeout_ms: int = Field(5000, ge=100)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    max_import_bytes: int = Field(33_554_432, ge=1024)
    # the request line's headers together; more gets 431
    max_header_bytes: int = Field(16_384, ge=1024, le=1_048_576)
    # failed sign-ins per username, and per address (a room's desk computer is shared)
    login_max_failures: int = Field(5, ge=1)
    login_max_failures_per_address: int = Field(20, ge=1)
    login_window_seconds: int = Field(900, ge=10)
    # lookups by resident code that found no one, per account, before every lookup by code
    # is refused for the rest of the window (codes are not a key anyone can try)
    code_max_misses: int = Field(10, ge=1)
    code_miss_window_seconds: int = Field(3600, ge=10)
    # a referral waiting longer than this in 'sent' or 'accepted' is overdue
    referral_overdue_days: int = Field(14, ge=1, le=365)
    # residents with no contact for this long are anonymised by `bwk retention run`
    retention_months: int = Field(24, ge=1, le=240)
    # the figures' participants from the rollup kept beside the registrations (false: counted
    # over the registrations, slower; for while `bwk rollup check` finds it wrong)
    figures_from_rollup: bool = True
    # Argon2id cost; lower only for tests
    password_hash_time_cost: int = Field(3, ge=1)
    password_hash_memory_kib: int = Field(65536, ge=1024)
    # who may read /metrics: networks, comma-separated ("" for no one)
    metrics_allow: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=lambda: [ip_network("127.0.0.0/8"), ip_network("::1/128")]
    )

    @field_validator("cors_origins", "forwarded_allow_ips", "metrics_allow", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @field_validator("previous_secret_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [p.strip() for p in value.split(",") if p.strip()]
            out: dict[str, str] = {}
            for pair in pairs:
                kid, sep, secret = pair.partition("=")
                if not sep or not kid or not secret:
                    raise ValueError("BWK_PREVIOUS_SECRET_KEYS takes 'kid=secret' pairs")
                out[kid.strip()] = secret.strip()
            return out
        return value

    @model_validator(mode="after")
    def _production_is_strict(self) -> Self:
        if self.mode is Mode.production:
            secret = self.secret_key.get_secret_value()
            if secret == DEFAULT_SECRET or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"BWK_SECRET_KEY must be set to a secret of at least {MIN_SECRET_LENGTH} "
                    "characters in production (generate one: "
                    "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            for kid, old in self.previous_secret_keys.items():
                if len(old.get_secret_value()) < MIN_SECRET_LENGTH:
                    raise ValueError(f"previous secret key {kid!r} is shorter than allowed")
            if not self.database_url:
                raise ValueError("BWK_DATABASE_URL must be set in production")
        if not self.database_url:
            self.database_url = f"sqlite:///{DEFAULT_DATA_DIR / 'bwk.db'}"
        return self

    @property
    def is_demo(self) -> bool:
        return self.mode is Mode.demo

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else not self.is_demo

    @property
    def migration_url(self) -> str:
        """Where `bwk migrate` connects: the owner's URL, else the application's."""
        return self.migrate_database_url or self.database_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
