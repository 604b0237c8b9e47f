"""Engine and session factories. The app's lifespan and the worker each own one engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asyncpg import exceptions as pg_errors
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.settings import Settings


def create_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set and no embedded database was started")
    size = pool_size or settings.db_pool_size
    return create_async_engine(
        settings.database_url,
        # Room for twice `size` at bursts, all of it kept: SQLAlchemy closes an *overflow* connection
        # as soon as it is returned, so a load just above the pool size opened a new Postgres backend
        # for nearly every request (45 in 8 s of cached insight reads, each costing milliseconds of
        # CPU on both sides). Connections are still opened only when needed.
        pool_size=2 * size,
        max_overflow=0,
        # No pre-ping (a round trip per checkout): a connection found dead when used invalidates
        # the whole pool, that request answers 503 (app/errors.py) and the next ones reconnect.
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "application_name": "analytics",
                "statement_timeout": str(settings.statement_timeout_ms),
            },
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def raw_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled connection as asyncpg's own (for array binds and asyncpg transactions).

    SQLAlchemy never sees errors raised on it, so a connection that died is dropped from the pool
    here, and a failure because of it surfaces as ConnectionError (a 503, app/errors.py).
    """
    async with engine.connect() as connection:
        raw: Any = (await connection.get_raw_connection()).driver_connection
        try:
            yield raw
        except (pg_errors.InterfaceError, pg_errors.ConnectionDoesNotExistError, OSError) as exc:
            if not raw.is_closed():
                raise
            await connection.invalidate()
            raise ConnectionError("the Postgres connection was lost") from exc
        if raw.is_closed():  # died in work that handled its own error
            await connection.invalidate()
