"""What the benchmarks share: a scratch database, the demo dataset as stored rows, timing helpers."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg

from app.ingestion.demo import DemoDataset
from app.ingestion.events import normalize_event
from app.ingestion.writer import COLUMNS
from app.runtime import migrate
from app.settings import Settings

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# A fixed end date: every run of a benchmark measures the very same events.
DEMO_END = datetime(2026, 11, 1, tzinfo=UTC)
EVENT_COLUMNS = COLUMNS  # as ingestion writes them


def database_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def reset_database(name: str) -> str:
    """Drops and recreates database `name`, migrated to head; returns its URL."""
    if not name.isidentifier():
        raise SystemExit(f"database name must be a plain identifier, got {name!r}")
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = database_url(name)
    await asyncio.to_thread(migrate, Settings(DATABASE_URL=url))  # alembic runs its own event loop
    return url


def demo_rows(events: int, team_id: int, days: int = 30, seed: int = 1) -> Iterator[list[tuple[Any, ...]]]:
    """The demo dataset as `events` rows (one person per distinct id), a list per day."""
    persons: dict[str, uuid.UUID] = {}
    now = datetime.now(UTC)
    for day in DemoDataset(events=events, days=days, seed=seed, end=DEMO_END).batches():
        rows = []
        for index, raw in enumerate(day):
            e = normalize_event(raw, index=index, now=now, sent_at=None)
            person = persons.setdefault(e.distinct_id, uuid.uuid4())
            rows.append(
                (e.uuid, team_id, e.event, e.distinct_id, person, e.timestamp, e.properties_json(),
                 e.elements_chain, e.session_id)
            )  # fmt: skip
        yield rows


async def timed(run: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    """Wall-clock seconds of `repeat` runs (after one warm-up run)."""
    await run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return times


async def timed_side_by_side(
    first: Callable[[], Awaitable[Any]], second: Callable[[], Awaitable[Any]], repeat: int
) -> tuple[list[float], list[float]]:
    """`timed` for two ways of doing the same work, alternating run by run (after a warm-up of each),
    so load that drifts during the measurement (this machine has 2 cores) weighs on both alike."""
    await first()
    await second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, into in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            await run()
            into.append(time.perf_counter() - started)
    return times


def p50(times: list[float]) -> float:
    return statistics.median(times)


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_healthy(url: str, within: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(f"{url}/_health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} did not become healthy")


async def demo_database(events: int, days: int = 90, seed: int = 1) -> tuple[str, int]:
    """A database holding the demo dataset of `events` events, loaded through the ingestion pipeline
    (persons, merges, definitions); kept between runs and reused when it already holds them."""
    from app.db import create_engine, create_sessionmaker
    from app.ingestion.bulk import ImportReport, import_events
    from app.ingestion.pipeline import Ingestor
    from app.services import identity as identity_service

    name = f"bench_demo_{events}_{days}_{seed}"
    url = database_url(name)
    try:
        connection = await asyncpg.connect(url)
        try:
            stored = await connection.fetchval("SELECT count(*) FROM events")
            team_id = await connection.fetchval("SELECT min(id) FROM projects")
        finally:
            await connection.close()
        if stored == events and team_id is not None:
            # Kept from an earlier run: bring its schema (indexes included) up to date. A migration
            # that rewrote the table also reset its visibility map, which index-only scans need.
            await asyncio.to_thread(migrate, Settings(DATABASE_URL=url))
            connection = await asyncpg.connect(url)
            try:
                await connection.execute("VACUUM ANALYZE events")
            finally:
                await connection.close()
            return url, int(team_id)
    except (asyncpg.InvalidCatalogNameError, asyncpg.UndefinedTableError):
        pass
    await reset_database(name)
    engine = create_engine(Settings(DATABASE_URL=url), pool_size=2)
    try:
        async with create_sessionmaker(engine)() as session:
            project = (await identity_service.bootstrap(session)).project
            await session.commit()
        started = time.monotonic()
        now = datetime.now(UTC)

        def numbered() -> Iterator[tuple[int, Any]]:
            number = 0
            for day in DemoDataset(events=events, days=days, seed=seed, end=DEMO_END).batches():
                for raw in day:
                    number += 1
                    yield number, normalize_event(raw, index=number, now=now, sent_at=None)

        report = await import_events(Ingestor(engine), project.id, numbered(), ImportReport())
        async with engine.connect() as connection:
            raw_connection = (await connection.get_raw_connection()).driver_connection
            await raw_connection.execute("VACUUM ANALYZE")
        print(f"loaded {report.imported:,} demo events in {time.monotonic() - started:.0f} s", flush=True)
        return url, project.id
    finally:
        await engine.dispose()
