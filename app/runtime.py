"""What the CLI commands share: backing services (given or embedded), reachability, migrations."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from alembic import command
from alembic.config import Config

from app.embedded import start_embedded
from app.settings import Settings, get_settings, libpq_database_url

ROOT = Path(__file__).resolve().parent.parent
CONNECT_TIMEOUT_SECONDS = 5.0


class Unreachable(Exception):
    """A configured server did not answer; the message is one line meant for the user."""


@contextmanager
def backing_services(*, postgres: bool = True, redis: bool = True) -> Iterator[Settings]:
    """Settings whose URLs point at real servers: the configured ones, or embedded ones started here.

    The URLs are exported to the environment so child processes (API, worker) inherit them.
    """
    settings = get_settings()
    need_postgres = postgres and not settings.database_url
    need_redis = redis and not settings.redis_url
    servers = None
    if need_postgres or need_redis:
        servers = start_embedded(settings.data_dir, postgres=need_postgres, redis=need_redis)
        if servers.database_url:
            os.environ["DATABASE_URL"] = servers.database_url
        if servers.redis_url:
            os.environ["REDIS_URL"] = servers.redis_url
        get_settings.cache_clear()
    try:
        yield get_settings()
    finally:
        if servers is not None:
            servers.stop()


def _describe(url: str) -> str:
    parts = urlsplit(url)
    return (parts.hostname and f"{parts.hostname}:{parts.port or ''}".rstrip(":")) or parts.query or url


async def _check(settings: Settings, *, redis: bool) -> None:
    import asyncpg
    from redis.asyncio import Redis

    if settings.database_url:
        try:
            connection = await asyncpg.connect(
                libpq_database_url(settings.database_url), timeout=CONNECT_TIMEOUT_SECONDS
            )
            await connection.close()
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise Unreachable(
                f"cannot reach PostgreSQL at {_describe(settings.database_url)}: {exc or type(exc).__name__}"
            ) from None
    if redis and settings.redis_url:
        client = Redis.from_url(settings.redis_url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            await client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure is one line for the user
            raise Unreachable(f"cannot reach Redis at {_describe(settings.redis_url)}: {exc}") from None
        finally:
            await client.aclose()


def check_reachable(settings: Settings, *, redis: bool = True) -> None:
    asyncio.run(_check(settings, redis=redis))


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(settings: Settings) -> None:
    assert settings.database_url
    command.upgrade(alembic_config(settings.database_url), "head")
