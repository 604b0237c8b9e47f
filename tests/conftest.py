"""Real Postgres and Redis for every test: the machine's servers when reachable, else embedded ones.

- `TEST_DATABASE_URL` (default `postgresql://postgres@127.0.0.1:5432/test`) is migrated once per
  session; every test starts from empty tables (TRUNCATE), so live servers and workers see the data.
- `TEST_REDIS_URL` (default `redis://127.0.0.1:6379/9`) is flushed before every test.
- Under xdist (`-n 2`, the default in pyproject) each worker uses `<database>_gw<N>` (created when
  missing) and the next Redis dbs, see `_per_worker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import settings
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import create_engine, create_sessionmaker
from app.embedded import EmbeddedServers, start_embedded
from app.main import create_app
from app.runtime import Unreachable, check_reachable, migrate
from app.settings import Settings
from tests.factories.identity import Team, create_team

# No per-example deadline: on a busy 2-core machine a pure function's example can take 200 ms
# (Hypothesis' default) without anything being wrong; the properties, not the timings, are tested.
settings.register_profile("analytics", deadline=None)
settings.load_profile("analytics")

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/9"
T = TypeVar("T")


def _reachable(settings: Settings) -> bool:
    try:
        check_reachable(settings)
    except Unreachable:
        return False
    return True


def _in_thread(function: Callable[[], T]) -> T:
    """Run blocking set-up (which may call asyncio.run) outside the test session's event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


@pytest.fixture(scope="session")
def test_settings() -> Iterator[Settings]:
    return_value = _in_thread(_prepare_servers)
    yield return_value[0]
    if return_value[1] is not None:
        return_value[1].stop()


def _per_worker(database_url: str, redis_url: str) -> tuple[str, str]:
    """Under `pytest -n`, each worker (gw0, gw1…) gets its own database and Redis db: tests truncate
    and flush freely, so workers sharing them would wipe each other's data."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return database_url, redis_url
    number = int(worker.removeprefix("gw"))
    redis_base, redis_db = redis_url.rsplit("/", 1)
    return f"{database_url}_{worker}", f"{redis_base}/{(int(redis_db) + 1 + number) % 16}"


async def _create_database(database_url: str) -> None:
    server, name = database_url.rsplit("/", 1)
    connection = await asyncpg.connect(f"{server}/postgres")
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')  # a worker id, never user input
    finally:
        await connection.close()


def _prepare_servers() -> tuple[Settings, EmbeddedServers | None]:
    database_url, redis_url = _per_worker(
        os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL),
        os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL),
    )
    settings = Settings(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SITE_URL="http://testserver",
        STATEMENT_TIMEOUT_MS=30_000,
    )
    embedded: EmbeddedServers | None = None
    if os.environ.get("PYTEST_XDIST_WORKER"):
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            asyncio.run(_create_database(database_url))
    if not _reachable(settings):
        data_dir = Path(tempfile.mkdtemp(prefix="analytics-test-"))
        embedded = start_embedded(data_dir, postgres=True, redis=True)
        assert embedded.database_url
        assert embedded.redis_url
        settings = Settings(
            DATABASE_URL=embedded.database_url, REDIS_URL=embedded.redis_url, SITE_URL="http://testserver"
        )
    asyncio.run(_reset_schema(settings))
    migrate(settings)
    # Child processes (workers, CLI runs) started by tests use the same servers.
    os.environ["DATABASE_URL"] = settings.database_url or ""
    os.environ["REDIS_URL"] = settings.redis_url or ""
    return settings, embedded


async def _reset_schema(settings: Settings) -> None:
    engine = create_engine(settings, pool_size=1)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
async def engine(test_settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(test_settings, pool_size=4)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture(scope="session")
async def _table_names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        return [f'"{name}"' for (name,) in rows if name != "alembic_version"]


@pytest.fixture(autouse=True)
async def _clean_state(engine: AsyncEngine, _table_names: list[str], test_settings: Settings) -> None:
    tables, settings = _table_names, test_settings
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    redis = Redis.from_url(settings.redis_url or "")
    await redis.flushdb()
    await redis.aclose()


@pytest.fixture(scope="session")
async def app(test_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(test_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def redis(test_settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(test_settings.redis_url or "")
    yield client
    await client.aclose()


@pytest.fixture
async def team(sessionmaker: async_sessionmaker[AsyncSession]) -> Team:
    return await create_team(sessionmaker)


@pytest.fixture
async def other_team(sessionmaker: async_sessionmaker[AsyncSession]) -> Team:
    return await create_team(sessionmaker)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving a fresh app in its own thread and event loop (so blocking SDK calls can't stall it)."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(test_settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(test_settings) as server:
        yield server


class WorkerProcess:
    """A real `analytics worker` (arq) subprocess on the test servers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(
            os.environ, DATABASE_URL=self.settings.database_url or "", REDIS_URL=self.settings.redis_url or ""
        )
        self.process = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def arq_worker(test_settings: Settings) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(test_settings)
    worker.start()
    yield worker
    worker.stop()
