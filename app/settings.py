"""All configuration, read once from the environment (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ASYNC_DRIVER = "postgresql+asyncpg"


def normalize_database_url(url: str) -> str:
    """Accept the URL forms hosting providers hand out and return an asyncpg SQLAlchemy URL.

    `postgres://` and `postgresql://` become `postgresql+asyncpg://`; libpq's `sslmode`
    becomes asyncpg's `ssl`, which is the one query option the two drivers spell differently.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", ASYNC_DRIVER):
        raise ValueError(f"unsupported database URL scheme {parts.scheme!r}")
    query = [("ssl" if key == "sslmode" else key, value) for key, value in parse_qsl(parts.query)]
    return urlunsplit((ASYNC_DRIVER, parts.netloc, parts.path, urlencode(query), parts.fragment))


def libpq_database_url(url: str) -> str:
    """The same database as a plain `postgresql://` URL, for asyncpg.connect and psql."""
    return "postgresql://" + url.split("://", 1)[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    data_dir: Path = Field(
        default=Path(".analytics"), validation_alias=AliasChoices("ANALYTICS_DATA_DIR", "DATA_DIR")
    )
    site_url: str = Field(default="http://localhost:8000", validation_alias="SITE_URL")
    statement_timeout_ms: int = Field(default=60_000, validation_alias="STATEMENT_TIMEOUT_MS")
    # Each request holds its connection until it ends, so a busy process uses about as many as it
    # has requests in flight. Connections beyond the pool (up to as many again) are closed when returned,
    # and reopening one (TLS negotiation, type codecs, statements prepared again) cost more than the
    # cheap reads it served: with 10 and 32 reads in flight, a fifth of the API's CPU went to reconnecting.
    db_pool_size: int = Field(default=20, validation_alias="DB_POOL_SIZE")
    max_request_bytes: int = Field(default=20 * 1024 * 1024, validation_alias="MAX_REQUEST_BYTES")
    log_level: str = Field(default="info", validation_alias="LOG_LEVEL")
    rate_limit_per_minute: int = Field(default=240, validation_alias="RATE_LIMIT_PER_MINUTE")
    rate_limit_per_hour: int = Field(default=1200, validation_alias="RATE_LIMIT_PER_HOUR")
    # Authenticated keys and their projects are remembered this long per process (app/principals.py).
    auth_cache_seconds: float = Field(default=5, ge=0, validation_alias="AUTH_CACHE_SECONDS")
    # An async query whose worker has not sent a heartbeat for this long is reported as failed.
    query_worker_lost_after_s: float = Field(default=30, gt=0, validation_alias="QUERY_WORKER_LOST_AFTER_S")
    # Dashboard tile streams: open streams per process (503 past it), tiles computed at once per stream.
    sse_max_streams: int = Field(default=1000, ge=1, validation_alias="SSE_MAX_STREAMS")
    sse_tile_concurrency: int = Field(default=4, ge=1, validation_alias="SSE_TILE_CONCURRENCY")

    @field_validator("database_url")
    @classmethod
    def _normalize_database_url(cls, value: str | None) -> str | None:
        return normalize_database_url(value) if value else None

    @property
    def embedded(self) -> bool:
        """True when either server must come from the embedded wheels."""
        return not (self.database_url and self.redis_url)


@lru_cache
def get_settings() -> Settings:
    return Settings()
